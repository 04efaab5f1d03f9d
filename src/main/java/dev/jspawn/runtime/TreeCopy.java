package dev.jspawn.runtime;

import dev.jspawn.sys.Syscalls;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;

/**
 * Copies a container tree faithfully: directories, files, symlinks, device nodes and FIFOs, owners,
 * modes (setuid included), timestamps, and hard links as hard links. Used for --template when a
 * btrfs snapshot is not possible. Extended attributes are not copied yet (see docs/compatibility.md).
 */
final class TreeCopy {
    private TreeCopy() {}

    static void copy(Path from, Path to) throws IOException {
        Map<Object, Path> links = new HashMap<>();
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path d = to.resolve(from.relativize(dir).toString());
                if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(d);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path d = to.resolve(from.relativize(file).toString());
                Map<String, Object> a = Files.readAttributes(file, "unix:mode,uid,gid,rdev,nlink,ino,dev",
                        LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) a.get("mode");
                if (!attrs.isDirectory() && (Integer) a.get("nlink") > 1) {
                    Object key = a.get("dev") + ":" + a.get("ino");
                    Path first = links.putIfAbsent(key, d);
                    if (first != null) {
                        Files.createLink(d, first);
                        return FileVisitResult.CONTINUE;
                    }
                }
                if (attrs.isSymbolicLink()) {
                    Files.createSymbolicLink(d, Files.readSymbolicLink(file));
                } else if (attrs.isRegularFile()) {
                    Files.copy(file, d, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                } else {
                    Syscalls.mknod(d.toString(), mode, (Long) a.get("rdev"));
                }
                own(d, a, mode, attrs.lastModifiedTime(), attrs.isSymbolicLink());
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) throw exc;
                Path d = to.resolve(from.relativize(dir).toString());
                Map<String, Object> a = Files.readAttributes(dir, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
                own(d, a, (Integer) a.get("mode"), Files.getLastModifiedTime(dir), false);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void own(Path p, Map<String, Object> a, int mode, FileTime mtime, boolean link) throws IOException {
        Files.setAttribute(p, "unix:uid", a.get("uid"), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", a.get("gid"), LinkOption.NOFOLLOW_LINKS);
        if (!link) {
            Files.setAttribute(p, "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
            Files.setLastModifiedTime(p, mtime);
        }
    }
}
