package kit.util;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Folder chores shared by the broker, the grader, the builds and the tests. */
public final class Folders {

    private Folders() { }

    /** The first of {@code names} found as an executable file in a folder of {@code path} (a PATH value), or null. */
    public static Path onPath(String path, List<String> names) {
        if (path == null) return null;
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isBlank()) continue;
            for (String name : names) {
                Path p;
                try {
                    p = Path.of(dir).resolve(name);
                } catch (java.nio.file.InvalidPathException e) {
                    continue;
                }
                if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
            }
        }
        return null;
    }

    /** Removes a folder and everything in it, as far as it can; a missing folder is fine. */
    public static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> { try { Files.deleteIfExists(p); } catch (IOException ignored) { } });
        } catch (IOException ignored) {
        }
    }

    /**
     * Creates {@code dir} if needed and checks that a file can be written in it (a real try: permission bits say
     * nothing to root); null when all is well, otherwise what is wrong, in French, naming the folder and the option.
     */
    public static String writableFolderProblem(Path dir, String option) {
        Path absolute = dir.toAbsolutePath().normalize();
        for (Path p = absolute; p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    return p.equals(absolute) ? option + " : « " + dir + " » est un fichier, pas un dossier. Choisissez un dossier."
                            : option + " : impossible de créer le dossier « " + dir + " » : « " + p + " » est un fichier, pas un dossier.";
                }
                break;
            }
        }
        try {
            Files.createDirectories(absolute);
        } catch (IOException | SecurityException e) {
            return option + " : impossible de créer le dossier « " + dir + " »" + reason(e) + ". Choisissez un autre dossier.";
        }
        try {
            Path probe = Files.createTempFile(absolute, ".essai-", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            return option + " : le dossier « " + dir + " » n'est pas accessible en écriture" + reason(e) + ". Choisissez un autre dossier.";
        }
        return null;
    }

    /** Why a file operation failed, in French, in parentheses after a space; empty when nothing more is known. */
    public static String reason(Exception e) {
        if (e instanceof AccessDeniedException || e instanceof SecurityException) return " (permission refusée)";
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return switch (f.getReason()) {
                case "Read-only file system" -> " (système de fichiers en lecture seule)";
                case "No space left on device" -> " (disque plein)";
                case "Not a directory" -> " (un fichier est sur le chemin)";
                default -> " (" + f.getReason() + ")";
            };
        }
        return e.getMessage() == null ? "" : " (" + e.getMessage() + ")";
    }
}
