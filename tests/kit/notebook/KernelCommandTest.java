package kit.notebook;

import kit.run.ScriptRunner;
import kit.util.Folders;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ./jbang kernel with a place it cannot use: a French message and a non-zero exit, never jupyter's Python stack trace. */
class KernelCommandTest {

    @Test
    void prefix_underARegularFile_isAUsageError_inFrench() throws Exception {
        Path file = Files.createTempFile("noyau-fichier-", ".txt");
        try {
            Path prefix = file.resolve("jupyter");
            ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(2), "kernel", "--prefix", prefix.toString());
            assertEquals(2, r.exitCode(), r.describe());
            assertTrue(r.stderr().contains("--prefix") && r.stderr().contains("« " + prefix + " »")
                    && r.stderr().contains("est un fichier, pas un dossier"), r.describe());
            assertFalse(r.stderr().contains("Traceback") || r.stderr().contains("Exception"), r.describe());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Whatever else makes jupyter fail (here a stand-in that fails as Python does): its last line, not its trace. */
    @Test
    void jupyterFailing_toInstall_saysSoInFrench_withoutTheTrace() throws Exception {
        Path dir = Files.createTempDirectory("faux-jupyter-");
        try {
            Path fake = dir.resolve("jupyter");
            Files.writeString(fake, """
                    #!/bin/sh
                    if [ "$2" = "--version" ]; then echo 5.7.2; exit 0; fi
                    echo 'Traceback (most recent call last):' >&2
                    echo '  File "/usr/bin/jupyter-kernelspec", line 33, in <module>' >&2
                    echo "PermissionError: [Errno 13] Permission denied: '/usr/local/share/jupyter'" >&2
                    exit 1
                    """);
            Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path prefix = dir.resolve("prefixe");
            ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(5), "kernel", "--jupyter", fake.toString(),
                    "--prefix", prefix.toString());
            assertEquals(1, r.exitCode(), r.describe());
            assertTrue(r.stderr().contains("jupyter n'a pas pu installer le noyau « java »")
                    && r.stderr().contains("« " + prefix + " »"), r.describe());
            assertTrue(r.stderr().contains("PermissionError: [Errno 13] Permission denied"), "la cause, en une ligne : " + r.describe());
            assertFalse(r.stderr().contains("Traceback") || r.stderr().contains("File \"") || r.stderr().contains("Exception"), r.describe());
        } finally {
            Folders.deleteRecursively(dir);
        }
    }
}
