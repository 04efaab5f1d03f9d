package dev.jspawn.daemon;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * jmachined's local API: Varlink-style calls on a stream socket (docs/machine-api.md). Each message is
 * one JSON object followed by a NUL byte; a call is {"method": "io.jspawn.Machine.X", "parameters": {...}},
 * the reply {"parameters": {...}} or {"error": "io.jspawn.Machine.Y", "parameters": {"message": ...}}.
 * Only root may call (SO_PEERCRED); others get io.jspawn.Machine.PermissionDenied.
 */
public final class MachineApi {
    public static final String PREFIX = "io.jspawn.Machine.";

    /** A call that failed with a Varlink error name and a message for the user. */
    public static final class ApiError extends Exception {
        final String error;

        public ApiError(String error, String message) {
            super(message);
            this.error = error;
        }
    }

    interface Handler {
        Map<String, Object> call(String method, Map<String, Object> params) throws ApiError;
    }

    private final Path path;
    private final Handler handler;

    MachineApi(Path path, Handler handler) {
        this.path = path;
        this.handler = handler;
    }

    /** Binds the socket (0666: the root check is SO_PEERCRED, so that others get a clear answer) and serves. */
    void start() throws IOException {
        Files.createDirectories(path.getParent());
        if (Files.exists(path)) {
            // A second daemon would adopt the same machines and start enabled ones twice.
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.connect(UnixDomainSocketAddress.of(path));
                throw new IOException("another jmachined is already running on " + path);
            } catch (java.net.SocketException e) {
                // nobody listens: a socket left by a killed daemon
            }
        }
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
        Thread t = new Thread(() -> {
            for (;;) {
                try {
                    SocketChannel c = server.accept();
                    Thread h = new Thread(() -> serve(c), "api");
                    h.setDaemon(true);
                    h.start();
                } catch (IOException e) {
                    System.err.println("jmachined: accept on " + path + ": " + e.getMessage());
                    return;
                }
            }
        }, "api-accept");
        t.setDaemon(true);
        t.start();
    }

    private void serve(SocketChannel c) {
        try (c) {
            boolean root = isRoot(c);
            ByteArrayOutputStream msg = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            for (;;) {
                buf.clear();
                int n = c.read(buf);
                if (n < 0) return;
                for (int i = 0; i < n; i++) {
                    byte b = buf.get(i);
                    if (b != 0) {
                        msg.write(b);
                        if (msg.size() > (1 << 20)) return; // no call is this big
                        continue;
                    }
                    String reply = answer(msg.toString(StandardCharsets.UTF_8), root);
                    msg.reset();
                    byte[] r = (reply + "\0").getBytes(StandardCharsets.UTF_8);
                    ByteBuffer out = ByteBuffer.wrap(r);
                    while (out.hasRemaining()) c.write(out);
                    if (!root) return; // one answer, then the connection goes: nothing else to say
                }
            }
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private static boolean isRoot(SocketChannel c) {
        try {
            return "root".equals(c.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED).user().getName());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    String answer(String text, boolean root) {
        Map<String, Object> reply = new LinkedHashMap<>();
        try {
            if (!root) throw new ApiError("PermissionDenied", "Permission denied: only root may talk to jmachined");
            Map<String, Object> call;
            try {
                call = Json.parseObject(text);
            } catch (Json.ParseException e) {
                throw new ApiError("InvalidParameter", "Malformed call: " + e.getMessage());
            }
            String method = Json.str(call, "method");
            if (method == null || !method.startsWith(PREFIX)) {
                throw new ApiError("MethodNotFound", "Unknown method " + method);
            }
            Object p = call.get("parameters");
            @SuppressWarnings("unchecked")
            Map<String, Object> params = p instanceof Map ? (Map<String, Object>) p : new LinkedHashMap<>();
            reply.put("parameters", handler.call(method.substring(PREFIX.length()), params));
        } catch (ApiError e) {
            reply.put("error", PREFIX + e.error);
            reply.put("parameters", Map.of("message", e.getMessage()));
        } catch (RuntimeException e) {
            reply.put("error", PREFIX + "Failed");
            reply.put("parameters", Map.of("message", "jmachined: internal error: " + e));
        }
        return Json.write(reply);
    }
}
