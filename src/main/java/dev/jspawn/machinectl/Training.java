package dev.jspawn.machinectl;

import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The AOT cache's training run (JMACHINECTL_TRAINING=1): `list` against a stand-in daemon on a private
 * socket, so the cache holds the classes of a real call (socket, JSON, table) without needing jmachined.
 */
final class Training {
    private Training() {}

    static void run() throws Exception {
        Path dir = Files.createTempDirectory("jmachinectl-training");
        Path sock = dir.resolve("s");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            Thread t = new Thread(() -> {
                try (SocketChannel c = server.accept()) {
                    ByteBuffer b = ByteBuffer.allocate(4096);
                    while (c.read(b) > 0 && b.get(b.position() - 1) != 0) { /* one call */ }
                    String reply = "{\"parameters\":{\"machines\":[{\"name\":\"m\",\"class\":\"container\","
                            + "\"service\":\"jspawn\",\"leader\":1,\"os\":\"debian\",\"version\":\"12\"}]}}\0";
                    c.write(ByteBuffer.wrap(reply.getBytes(StandardCharsets.UTF_8)));
                } catch (Exception ignored) {
                    // training only
                }
            });
            t.start();
            Options o = Options.parse(new String[] {"list", "--no-pager"});
            Jmachinectl c = new Jmachinectl(o, sock, new PrintStream(OutputStream.nullOutputStream()));
            c.dispatch();
            t.join();
        } finally {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }
}
