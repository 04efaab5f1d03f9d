package dev.jspawn.net.nft;

import dev.jspawn.net.NetlinkMessage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;

/**
 * One nf_tables expression of a rule: its name and the attributes of its NFTA_EXPR_DATA, written in the
 * order libnftnl writes them (so the messages are byte for byte those of {@code nft}, which the tests
 * check against dumps of nft 1.0.6). Registers are the 16-byte NFT_REG_1..4, as nft uses.
 */
public record NftExpr(String name, Consumer<NetlinkMessage> data) {
    static final int N = NetlinkMessage.NLA_F_NESTED;
    public static final int REG_VERDICT = 0, REG_1 = 1, REG_2 = 2;

    // meta keys
    public static final int META_NFPROTO = 15, META_L4PROTO = 16;
    // payload bases
    public static final int PAYLOAD_NETWORK = 1, PAYLOAD_TRANSPORT = 2;
    // cmp operators
    public static final int CMP_EQ = 0, CMP_NEQ = 1;
    // nat types
    public static final int NAT_DNAT = 1;
    static final int NF_NAT_RANGE_PROTO_SPECIFIED = 2;
    // fib
    static final int FIB_F_DADDR = 2, FIB_RESULT_ADDRTYPE = 3, RTN_LOCAL = 2;

    /** meta load KEY => reg. */
    public static NftExpr meta(int key, int dreg) {
        return new NftExpr("meta", m -> m.u32Be(2 /* KEY */, key).u32Be(1 /* DREG */, dreg));
    }

    /** payload load LEN bytes @ BASE + OFFSET => reg. */
    public static NftExpr payload(int base, int offset, int len, int dreg) {
        return new NftExpr("payload", m -> m.u32Be(1 /* DREG */, dreg).u32Be(2 /* BASE */, base)
                .u32Be(3 /* OFFSET */, offset).u32Be(4 /* LEN */, len));
    }

    /** cmp OP reg DATA. */
    public static NftExpr cmp(int op, int sreg, byte[] value) {
        return new NftExpr("cmp", m -> {
            m.u32Be(1 /* SREG */, sreg).u32Be(2 /* OP */, op);
            m.begin(3 /* DATA */ | N).bytes(1 /* NFTA_DATA_VALUE */, value).end();
        });
    }

    /** reg = (reg &amp; MASK) ^ XOR. */
    public static NftExpr bitwise(int sreg, int dreg, byte[] mask, byte[] xor) {
        return new NftExpr("bitwise", m -> {
            m.u32Be(1 /* SREG */, sreg).u32Be(2 /* DREG */, dreg).u32Be(3 /* LEN */, mask.length);
            m.begin(4 /* MASK */ | N).bytes(1, mask).end();
            m.begin(5 /* XOR */ | N).bytes(1, xor).end();
        });
    }

    /** immediate reg DATA. */
    public static NftExpr immediate(int dreg, byte[] value) {
        return new NftExpr("immediate", m -> {
            m.u32Be(1 /* DREG */, dreg);
            m.begin(2 /* DATA */ | N).bytes(1 /* NFTA_DATA_VALUE */, value).end();
        });
    }

    /** fib daddr type => reg (the address type of the destination: RTN_LOCAL for the host's own). */
    public static NftExpr fibDaddrType(int dreg) {
        return new NftExpr("fib", m -> m.u32Be(3 /* FLAGS */, FIB_F_DADDR).u32Be(2 /* RESULT */, FIB_RESULT_ADDRTYPE)
                .u32Be(1 /* DREG */, dreg));
    }

    /** dnat FAMILY to reg (address) : reg (port). */
    public static NftExpr dnat(int family, int addrReg, int protoReg) {
        return new NftExpr("nat", m -> m.u32Be(1 /* TYPE */, NAT_DNAT).u32Be(2 /* FAMILY */, family)
                .u32Be(3 /* REG_ADDR_MIN */, addrReg).u32Be(5 /* REG_PROTO_MIN */, protoReg)
                .u32Be(7 /* FLAGS */, NF_NAT_RANGE_PROTO_SPECIFIED));
    }

    /** masquerade: source NAT to the outgoing interface's address. */
    public static NftExpr masq() {
        return new NftExpr("masq", m -> {}); // an empty NFTA_EXPR_DATA, as libnftnl sends
    }

    /** Appends this expression as one NFTA_LIST_ELEM. */
    void write(NetlinkMessage m) {
        m.begin(1 /* NFTA_LIST_ELEM */ | N).string(1 /* NFTA_EXPR_NAME */, name);
        if (data != null) {
            m.begin(2 /* NFTA_EXPR_DATA */ | N);
            data.accept(m);
            m.end();
        }
        m.end();
    }

    /** A u32 in host byte order, as the kernel stores fib's address type and compares it. */
    static byte[] hostU32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
    }
}
