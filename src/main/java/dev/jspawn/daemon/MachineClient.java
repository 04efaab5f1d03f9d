package dev.jspawn.daemon;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** A connection to jmachined's machine API (see {@link MachineApi}); used by jmachinectl and jspawn. */
public final class MachineClient implements AutoCloseable {
    private final SocketChannel ch;
    private final ByteBuffer in = ByteBuffer.allocate(65536);

    /** The daemon answered with an error (its Varlink name without the interface prefix, and a message). */
    public static final class CallException extends IOException {
        public final String error;

        CallException(String error, String message) {
            super(message);
            this.error = error;
        }
    }

    private MachineClient(SocketChannel ch) {
        this.ch = ch;
        in.flip();
    }

    /** Connects; IOException (NoSuchFileException, connection refused) when no daemon listens. */
    public static MachineClient connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new MachineClient(ch);
    }

    public static Path defaultSocket() {
        return Path.of(DaemonConfig.get("JSPAWN_MACHINE_SOCKET", "jspawn.machine.socket", "/run/jspawn/io.jspawn.Machine"));
    }

    /** Calls io.jspawn.Machine.METHOD with alternating key, value parameters. */
    public Map<String, Object> call(String method, Object... kv) throws IOException {
        Map<String, Object> params = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) params.put((String) kv[i], kv[i + 1]);
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("method", MachineApi.PREFIX + method);
        call.put("parameters", params);
        ByteBuffer out = ByteBuffer.wrap((Json.write(call) + "\0").getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) ch.write(out);
        ByteArrayOutputStream msg = new ByteArrayOutputStream();
        for (;;) {
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == 0) return reply(msg.toString(StandardCharsets.UTF_8));
                msg.write(b);
            }
            in.clear();
            int n = ch.read(in);
            in.flip();
            if (n < 0) throw new IOException("jmachined closed the connection");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> reply(String text) throws IOException {
        Map<String, Object> r;
        try {
            r = Json.parseObject(text);
        } catch (Json.ParseException e) {
            throw new IOException("malformed reply from jmachined: " + e.getMessage());
        }
        Object p = r.get("parameters");
        Map<String, Object> params = p instanceof Map ? (Map<String, Object>) p : new LinkedHashMap<>();
        String error = Json.str(r, "error");
        if (error != null) {
            String name = error.startsWith(MachineApi.PREFIX) ? error.substring(MachineApi.PREFIX.length()) : error;
            String message = Json.str(params, "message");
            throw new CallException(name, message == null ? error : message);
        }
        return params;
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }
}
