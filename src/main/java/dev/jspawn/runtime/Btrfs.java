package dev.jspawn.runtime;

import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The btrfs operations jspawn needs, as ioctls: snapshots for -x and --template, subvolume removal. */
final class Btrfs {
    private Btrfs() {}

    private static final long SNAP_CREATE_V2 = 0x50009417L; // _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2)
    private static final long SNAP_DESTROY = 0x5000940fL;   // _IOW(0x94, 15, struct btrfs_ioctl_vol_args)
    private static final int FIRST_FREE_OBJECTID = 256;

    /** Whether {@code p} is the top directory of a btrfs subvolume (inode 256 on btrfs). */
    static boolean isSubvolume(Path p) throws IOException {
        if (!"btrfs".equals(Files.getFileStore(p).type())) return false;
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue() == FIRST_FREE_OBJECTID;
    }

    static boolean isBtrfs(Path p) throws IOException {
        return "btrfs".equals(Files.getFileStore(p).type());
    }

    /** Creates {@code dest} as a writable snapshot of the subvolume {@code source}. */
    static void snapshot(Path source, Path dest) throws IOException {
        int src = Syscalls.open(source.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        try {
            int parent = Syscalls.open(dest.getParent().toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY
                    | Syscalls.O_CLOEXEC, 0);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment args = a.allocate(4096, 8);
                args.set(ValueLayout.JAVA_LONG, 0, src);
                setName(args, 56, dest.getFileName().toString(), 4040);
                Syscalls.ioctlChecked(parent, SNAP_CREATE_V2, args, "create btrfs snapshot " + dest + " of " + source);
            } finally {
                Syscalls.close(parent);
            }
        } finally {
            Syscalls.close(src);
        }
    }

    /** Removes the subvolume {@code dest} with its content. */
    static void deleteSubvolume(Path dest) throws IOException {
        volArgs(dest, SNAP_DESTROY, "remove btrfs subvolume " + dest);
    }

    private static void volArgs(Path dest, long request, String what) throws IOException {
        int parent = Syscalls.open(dest.getParent().toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY
                | Syscalls.O_CLOEXEC, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(4096, 8);
            setName(args, 8, dest.getFileName().toString(), 4088);
            Syscalls.ioctlChecked(parent, request, args, what);
        } finally {
            Syscalls.close(parent);
        }
    }

    private static void setName(MemorySegment args, long offset, String name, int max) throws IOException {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        if (b.length >= max) throw new IOException("btrfs subvolume name too long: " + name);
        MemorySegment.copy(b, 0, args, ValueLayout.JAVA_BYTE, offset, b.length);
    }
}
