package kit;

import kit.run.ScriptRunner;
import kit.util.Folders;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ./jbang launcher works on a machine that has only Java 17 and Maven, and says what is missing otherwise. */
class LauncherTest {

    @Test
    void cleanClone_withEmptyCache_fetchesJBangOnceAndRunsTheCatalog() throws Exception {
        Path clone = Files.createTempDirectory("clone-");
        Path cache = Files.createTempDirectory("cache-jbang-");
        Path home = Files.createTempDirectory("home-");
        try {
            ScriptRunner.Result git = ScriptRunner.run(List.of("git", "clone", "-q", ScriptRunner.root().toString(), clone.toString()),
                    clone.getParent(), Map.of(), Duration.ofSeconds(60));
            assertEquals(0, git.exitCode(), git.describe());
            // an empty $HOME too: no ~/.m2 copy to take, so the launcher asks Maven (whose own local repository
            // follows Java's user.home and settings.xml: it may already hold JBang, and no download is needed)
            Map<String, String> env = Map.of("KIT_JBANG_CACHE", cache.toString(), "KIT_IGNORE_PATH_JBANG", "1",
                    "HOME", home.toString());

            ScriptRunner.Result version = ScriptRunner.run(List.of(clone.resolve("jbang").toString(), "version"), clone, env, Duration.ofMinutes(3));
            assertEquals(0, version.exitCode(), version.describe());
            // only French lines reach the student: Maven's own output (and its colour codes, ESC[0m) stays hidden
            assertEquals(-1, version.stderr().indexOf('\u001b'), "caractère ESC sur stderr : " + version.describe());
            assertEquals(1, version.stderr().split("Téléchargement de JBang", -1).length - 1,
                    "un seul téléchargement, par Maven (curl n'a pas dû prendre le relais) : " + version.describe());
            assertTrue(version.stderr().lines().allMatch(l -> l.isBlank() || l.startsWith("Téléchargement de JBang")),
                    "rien d'autre que la ligne en français : " + version.describe());
            assertTrue(version.stdout().trim().endsWith(pomProperty("jbang.version")), version.describe());
            assertTrue(Files.exists(cache.resolve("jbang-cli-" + pomProperty("jbang.version") + "-all.jar")), "le jar doit être en cache");

            ScriptRunner.Result help = ScriptRunner.run(List.of(clone.resolve("jbang").toString(), "broker", "--help"), clone, env, Duration.ofMinutes(5));
            assertEquals(0, help.exitCode(), help.describe());
            assertTrue(help.stdout().contains("--brokers"), help.describe());
        } finally {
            Folders.deleteRecursively(clone);
            Folders.deleteRecursively(cache);
            Folders.deleteRecursively(home);
        }
    }

    @Test
    void noJava_saysWhatIsMissing() throws Exception {
        Path bin = toolsWithout();
        ScriptRunner.Result r = ScriptRunner.run(List.of("/bin/bash", ScriptRunner.root().resolve("jbang").toString(), "version"),
                ScriptRunner.root(), Map.of("PATH", bin.toString(), "JAVA_HOME", "", "KIT_IGNORE_PATH_JBANG", "1"), Duration.ofSeconds(30));
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("Java introuvable") && r.stderr().contains("17"), r.describe());
    }

    @Test
    void oldJava_saysJava17IsRequired() throws Exception {
        Path bin = toolsWithout();
        Path fakeJava = bin.resolve("java");
        Files.writeString(fakeJava, "#!/bin/bash\necho '    java.specification.version = 11' >&2\n");
        Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwxr-xr-x"));
        ScriptRunner.Result r = ScriptRunner.run(List.of("/bin/bash", ScriptRunner.root().resolve("jbang").toString(), "version"),
                ScriptRunner.root(), Map.of("PATH", bin.toString(), "JAVA_HOME", "", "KIT_IGNORE_PATH_JBANG", "1"), Duration.ofSeconds(30));
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("Java 17") && r.stderr().contains("11"), r.describe());
    }

    /** A PATH with the shell tools the launcher uses, but no java. */
    private static Path toolsWithout() throws Exception {
        Path bin = Files.createTempDirectory("bin-sans-java-");
        for (String tool : List.of("dirname", "basename", "sed", "mkdir", "cp", "mv", "cat")) {
            for (String dir : List.of("/usr/bin", "/bin")) {
                Path src = Path.of(dir, tool);
                if (Files.exists(src) && !Files.exists(bin.resolve(tool))) Files.createSymbolicLink(bin.resolve(tool), src);
            }
        }
        return bin;
    }

    static String pomProperty(String name) throws Exception {
        String pom = Files.readString(ScriptRunner.root().resolve("pom.xml"));
        int start = pom.indexOf("<" + name + ">") + name.length() + 2;
        return pom.substring(start, pom.indexOf("</" + name + ">", start)).trim();
    }
}
