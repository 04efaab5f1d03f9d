package dev.jspawn.net.nft;

import dev.jspawn.net.NetlinkAttributes;
import dev.jspawn.net.NetlinkMessage;
import dev.jspawn.net.NetlinkReply;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.jspawn.net.NetlinkMessage.NLM_F_ACK;
import static dev.jspawn.net.NetlinkMessage.NLM_F_APPEND;
import static dev.jspawn.net.NetlinkMessage.NLM_F_CREATE;
import static dev.jspawn.net.NetlinkMessage.NLM_F_DUMP;

/**
 * The nf_tables netlink messages jspawn sends over NETLINK_NETFILTER (linux/netfilter/nf_tables.h,
 * nfnetlink.h): batch begin/end, tables, base chains, rules, their deletion, and the rule dump. Pure
 * encoding; {@link Nft} sends them.
 */
public final class NftMessages {
    private NftMessages() {}

    static final int NFNL_SUBSYS_NFTABLES = 10, NFNL_MSG_BATCH_BEGIN = 0x10, NFNL_MSG_BATCH_END = 0x11,
            NFNL_BATCH_GENID = 1;
    public static final int NFT_MSG_NEWTABLE = 0, NFT_MSG_DELTABLE = 2, NFT_MSG_NEWCHAIN = 3, NFT_MSG_NEWRULE = 6,
            NFT_MSG_GETRULE = 7, NFT_MSG_DELRULE = 8, NFT_MSG_GETGEN = 16;
    public static final int NFPROTO_UNSPEC = 0, NFPROTO_INET = 1, NFPROTO_IPV4 = 2, NFPROTO_IPV6 = 10;
    // hooks
    public static final int NF_INET_PRE_ROUTING = 0, NF_INET_LOCAL_OUT = 3, NF_INET_POST_ROUTING = 4;
    static final int NF_ACCEPT = 1;
    // attributes
    static final int NFTA_TABLE_NAME = 1, NFTA_TABLE_FLAGS = 2;
    static final int NFTA_CHAIN_TABLE = 1, NFTA_CHAIN_NAME = 3, NFTA_CHAIN_HOOK = 4, NFTA_CHAIN_POLICY = 5,
            NFTA_CHAIN_TYPE = 7, NFTA_HOOK_HOOKNUM = 1, NFTA_HOOK_PRIORITY = 2;
    static final int NFTA_RULE_TABLE = 1, NFTA_RULE_CHAIN = 2, NFTA_RULE_HANDLE = 3, NFTA_RULE_EXPRESSIONS = 4,
            NFTA_RULE_USERDATA = 7;
    static final int NFTA_GEN_ID = 1;
    /** libnftnl's NFTNL_UDATA_RULE_COMMENT: what {@code nft list} shows as {@code comment "..."}. */
    static final int UDATA_RULE_COMMENT = 0;

    static int type(int msg) {
        return NFNL_SUBSYS_NFTABLES << 8 | msg;
    }

    /** struct nfgenmsg: family, version 0 (NFNETLINK_V0), res_id (big-endian). */
    static byte[] nfgenmsg(int family, int resId) {
        return new byte[] {(byte) family, 0, (byte) (resId >> 8), (byte) resId};
    }

    /** Starts a batch; with {@code genId >= 0} the kernel refuses it (ERESTART) if the ruleset changed since. */
    public static NetlinkMessage batchBegin(long genId) {
        NetlinkMessage m = NetlinkMessage.raw(NFNL_MSG_BATCH_BEGIN, NetlinkMessage.NLM_F_REQUEST)
                .describe("begin an nftables batch").header(nfgenmsg(NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES));
        if (genId >= 0) m.u32Be(NFNL_BATCH_GENID, (int) genId);
        return m;
    }

    public static NetlinkMessage batchEnd() {
        return NetlinkMessage.raw(NFNL_MSG_BATCH_END, NetlinkMessage.NLM_F_REQUEST).describe("end an nftables batch")
                .header(nfgenmsg(NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES));
    }

    /** add table FAMILY NAME (no error if it exists). */
    public static NetlinkMessage newTable(int family, String table) {
        return NetlinkMessage.request(type(NFT_MSG_NEWTABLE), NLM_F_CREATE | NLM_F_ACK)
                .describe("create nftables table " + table).header(nfgenmsg(family, 0))
                .string(NFTA_TABLE_NAME, table).u32Be(NFTA_TABLE_FLAGS, 0);
    }

    public static NetlinkMessage delTable(int family, String table) {
        return NetlinkMessage.request(type(NFT_MSG_DELTABLE), NLM_F_ACK).describe("delete nftables table " + table)
                .header(nfgenmsg(family, 0)).string(NFTA_TABLE_NAME, table);
    }

    /** add chain FAMILY TABLE CHAIN { type nat hook HOOK priority PRIO; policy accept; } */
    public static NetlinkMessage newNatChain(int family, String table, String chain, int hook, int priority) {
        return NetlinkMessage.request(type(NFT_MSG_NEWCHAIN), NLM_F_CREATE | NLM_F_ACK)
                .describe("create nftables chain " + table + " " + chain).header(nfgenmsg(family, 0))
                .string(NFTA_CHAIN_TABLE, table).string(NFTA_CHAIN_NAME, chain).string(NFTA_CHAIN_TYPE, "nat")
                .u32Be(NFTA_CHAIN_POLICY, NF_ACCEPT)
                .begin(NFTA_CHAIN_HOOK | NftExpr.N).u32Be(NFTA_HOOK_HOOKNUM, hook).u32Be(NFTA_HOOK_PRIORITY, priority).end();
    }

    /** add rule FAMILY TABLE CHAIN EXPRESSIONS comment "COMMENT" (appended at the end of the chain). */
    public static NetlinkMessage newRule(int family, String table, String chain, List<NftExpr> exprs, String comment) {
        NetlinkMessage m = NetlinkMessage.request(type(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK)
                .describe("add nftables rule to " + table + " " + chain + (comment == null ? "" : " (" + comment + ")"))
                .header(nfgenmsg(family, 0)).string(NFTA_RULE_TABLE, table).string(NFTA_RULE_CHAIN, chain);
        m.begin(NFTA_RULE_EXPRESSIONS | NftExpr.N);
        for (NftExpr e : exprs) e.write(m);
        m.end();
        if (comment != null) m.bytes(NFTA_RULE_USERDATA, commentUserdata(comment));
        return m;
    }

    public static NetlinkMessage delRule(int family, String table, String chain, long handle) {
        return NetlinkMessage.request(type(NFT_MSG_DELRULE), NLM_F_ACK)
                .describe("delete nftables rule " + handle + " of " + table + " " + chain).header(nfgenmsg(family, 0))
                .string(NFTA_RULE_TABLE, table).string(NFTA_RULE_CHAIN, chain).u64Be(NFTA_RULE_HANDLE, handle);
    }

    /** Dump of the rules of one table. */
    public static NetlinkMessage getRules(int family, String table) {
        return NetlinkMessage.request(type(NFT_MSG_GETRULE), NLM_F_DUMP).describe("list nftables rules of " + table)
                .header(nfgenmsg(family, 0)).string(NFTA_RULE_TABLE, table);
    }

    /** The ruleset's generation id, for {@link #batchBegin}. */
    public static NetlinkMessage getGen() {
        return NetlinkMessage.request(type(NFT_MSG_GETGEN), NLM_F_ACK).describe("get the nftables generation")
                .header(nfgenmsg(NFPROTO_UNSPEC, 0));
    }

    /** A rule as listed: where it is, its handle and its comment (null without one). */
    public record Rule(String table, String chain, long handle, String comment) {}

    /** Parses a NEWRULE message of a rule dump; null for other messages. */
    public static Rule parseRule(NetlinkReply r) {
        if (r.type() != type(NFT_MSG_NEWRULE)) return null;
        NetlinkAttributes a = r.attributes(4);
        NetlinkAttributes.Attr h = a.get(NFTA_RULE_HANDLE), u = a.get(NFTA_RULE_USERDATA);
        return new Rule(a.string(NFTA_RULE_TABLE), a.string(NFTA_RULE_CHAIN), h == null ? -1 : h.u64Be(),
                u == null ? null : comment(u.value()));
    }

    /** Parses a GETGEN reply's generation id; -1 for other messages. */
    public static long parseGen(NetlinkReply r) {
        if (r.type() != type(NFT_MSG_NEWGEN)) return -1;
        NetlinkAttributes.Attr g = r.attributes(4).get(NFTA_GEN_ID);
        return g == null ? -1 : Integer.toUnsignedLong(g.u32Be());
    }

    static final int NFT_MSG_NEWGEN = 15;

    /** libnftnl's userdata TLV list with one comment: type, length, the string with its NUL. */
    static byte[] commentUserdata(String comment) {
        byte[] c = comment.getBytes(StandardCharsets.UTF_8);
        if (c.length + 1 > 255) throw new IllegalArgumentException("nftables comment too long: " + comment);
        byte[] u = new byte[c.length + 3];
        u[0] = UDATA_RULE_COMMENT;
        u[1] = (byte) (c.length + 1);
        System.arraycopy(c, 0, u, 2, c.length);
        return u;
    }

    /** The comment of a rule's userdata, or null. */
    static String comment(byte[] u) {
        int i = 0;
        while (i + 2 <= u.length) {
            int t = u[i] & 0xff, len = u[i + 1] & 0xff;
            if (i + 2 + len > u.length) return null;
            if (t == UDATA_RULE_COMMENT) {
                int n = len;
                while (n > 0 && u[i + 2 + n - 1] == 0) n--;
                return new String(u, i + 2, n, StandardCharsets.UTF_8);
            }
            i += 2 + len;
        }
        return null;
    }
}
