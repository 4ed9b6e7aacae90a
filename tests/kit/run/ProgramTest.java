package kit.run;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A script built once by JBang, then run as the java command JBang prints: same program, same output, same exit codes. */
class ProgramTest {

    @TempDir
    Path dir;

    /** Java 23+ warns on stderr when Kafka calls sun.misc.Unsafe: its programs get the option that allows it; 17 to 22 refuse it. */
    @Test
    void quietJvm_allowsUnsafe_onlyOnJava23AndLater() throws Exception {
        String here = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        assertEquals(Runtime.version().feature() >= 23 ? List.of(Program.UNSAFE_ALLOWED) : List.of(), Program.quietJvm(here));
        // another JDK is known by its release file
        Path java = Files.createDirectories(dir.resolve("jdk/bin")).resolve("java");
        Files.writeString(java, "");
        for (Map.Entry<String, List<String>> c : Map.of("25.0.1", List.of(Program.UNSAFE_ALLOWED), "23", List.of(Program.UNSAFE_ALLOWED),
                "21.0.8", List.<String>of(), "17.0.15", List.<String>of(), "1.8.0_452", List.<String>of()).entrySet()) {
            Files.writeString(dir.resolve("jdk/release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"" + c.getKey() + "\"\n");
            assertEquals(c.getValue(), Program.quietJvm(java.toString()), "JAVA_VERSION=" + c.getKey());
        }
        Files.delete(dir.resolve("jdk/release"));
        assertEquals(List.of(), Program.quietJvm(java.toString()), "version inconnue : rien");
    }

    @Test
    void builtScript_runsLikeJBangRunsIt_withArgumentsAndExitCodes() throws Exception {
        Path script = Files.writeString(dir.resolve("Echo.java"), """
                //DEPS info.picocli:picocli:4.7.7
                public class Echo {
                    public static void main(String... args) {
                        System.out.println("arguments : " + String.join("|", args) + " ; picocli : " + picocli.CommandLine.VERSION);
                        System.exit(args.length);
                    }
                }
                """);
        Program.Build build = Program.prepare(script).join();
        assertTrue(build.ok(), build.problem() + "\n" + build.result().describe());
        assertSame(build, Program.prepare(script).join(), "un seul build par version du fichier");

        // words with spaces and shell characters reach the program untouched: no shell in between
        ScriptRunner.Result r = build.program().run(Duration.ofSeconds(30), Map.of(), p -> { }, List.of("a b", "$HOME", "c;d"));
        assertEquals(3, r.exitCode(), r.describe());
        assertEquals("arguments : a b|$HOME|c;d ; picocli : 4.7.7", r.stdout().strip());
        assertEquals(r.stdout(), ScriptRunner.jbang(Duration.ofSeconds(60), script.toString(), "a b", "$HOME", "c;d").stdout(),
                "même sortie que ./jbang Echo.java");

        // the same //DEPS again: compiled in this JVM against the jars JBang resolved, and it runs the same
        Path twin = Files.writeString(dir.resolve("Jumeau.java"), Files.readString(script).replace("Echo", "Jumeau"));
        Program.Build second = Program.prepare(twin).join();
        assertTrue(second.ok(), second.problem());
        assertEquals("", second.result().stderr(), "pas de JBang pour le second : " + second.result().describe());
        ScriptRunner.Result t = second.program().run(Duration.ofSeconds(30), Map.of(), p -> { }, List.of("x"));
        assertEquals(1, t.exitCode(), t.describe());
        assertEquals("arguments : x ; picocli : 4.7.7", t.stdout().strip());
    }

    /**
     * The tooling must work where there is no bash (Windows): JBang is this JVM's java running JBang's jar (or a jbang
     * on PATH), never the ./jbang launcher. Here the build sees a PATH with nothing on it: no bash, no java.
     */
    @Test
    void build_needsNoShell_withAnEmptyPath() throws Exception {
        List<String> jbang = JBang.command();
        assertTrue(jbang != null && jbang.get(0).equals(JBang.currentJava().toString())
                && jbang.contains("dev.jbang.Main"), "JBang par la JVM courante : " + jbang);
        Path emptyPath = Files.createDirectories(dir.resolve("chemin vide"));
        Map<String, String> env = new java.util.HashMap<>(Program.buildEnvironment());
        env.put("PATH", emptyPath.toString());
        Path script = Files.writeString(dir.resolve("SansShell.java"), """
                //DEPS info.picocli:picocli:4.7.7
                //JAVA_OPTIONS -Dkit.option=oui
                public class SansShell {
                    public static void main(String... args) {
                        System.out.println("picocli " + picocli.CommandLine.VERSION + ", option " + System.getProperty("kit.option"));
                    }
                }
                """);
        Program.Build build = Program.jbangBuild(script, env);
        assertTrue(build.ok(), build.problem() + "\n" + build.result().describe());
        ScriptRunner.Result r = build.program().run(Duration.ofSeconds(30), Map.of(), p -> { }, List.of());
        assertEquals(0, r.exitCode(), r.describe());
        assertEquals("picocli 4.7.7, option oui", r.stdout().strip());
    }

    @Test
    void jbang_isFoundAsTheLauncherFindsIt_cacheThenMavenThenPath() throws Exception {
        Path home = Files.createDirectories(dir.resolve("Élodie Martin"));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        String jar = "jbang-cli-" + JBang.VERSION + "-all.jar";
        Map<String, String> env = Map.of("PATH", bin.toString());
        assertEquals(null, JBang.command(env, home, false, null), "rien : pas de JBang");

        Path onPath = Files.writeString(bin.resolve("jbang"), "#!/bin/sh\n");
        onPath.toFile().setExecutable(true);
        assertEquals(List.of(onPath.toString()), JBang.command(env, home, false, null));
        assertEquals(null, JBang.command(env, home, false, onPath), "jamais le lanceur ./jbang du kit lui-même");
        Path cmd = Files.writeString(bin.resolve("jbang.cmd"), "@echo off\n");
        cmd.toFile().setExecutable(true);
        assertEquals(List.of(cmd.toString()), JBang.command(env, home, true, onPath), "jbang.cmd sous Windows");

        Path m2 = home.resolve(".m2").resolve("repository").resolve("dev").resolve("jbang").resolve("jbang-cli").resolve(JBang.VERSION);
        Files.write(Files.createDirectories(m2).resolve(jar), new byte[] {1});
        assertTrue(JBang.command(env, home, false, null).contains(m2.resolve(jar).toString()), "le dépôt Maven avant le PATH");

        Path cache = Files.createDirectories(home.resolve(".cache").resolve("kafka-semantiques"));
        Files.write(cache.resolve(jar), new byte[] {1});
        List<String> words = JBang.command(env, home, false, null);
        assertTrue(words.contains(cache.resolve(jar).toString()) && words.contains("dev.jbang.Main"), "le cache du kit d'abord : " + words);
        Path kitCache = Files.createDirectories(dir.resolve("cache du kit"));
        Files.write(kitCache.resolve(jar), new byte[] {1});
        assertTrue(JBang.command(Map.of("KIT_JBANG_CACHE", kitCache.toString()), home, false, null).contains(kitCache.resolve(jar).toString()),
                "KIT_JBANG_CACHE");
    }

    @Test
    void noMainMethod_saysSo_evenWhenTheDepsAreAlreadyResolved() throws Exception {
        for (String name : List.of("SansMain", "SansMainBis")) {
            Path script = Files.writeString(dir.resolve(name + ".java"), "//DEPS info.picocli:picocli:4.7.7\npublic class " + name + " { }");
            Program.Build build = Program.prepare(script).join();
            assertFalse(build.ok(), name);
            assertTrue(build.problem().startsWith("pas de méthode main"), name + " : " + build.problem());
        }
    }

    @Test
    void compileError_isTheBuildsProblem_withTheCompilerLine() throws Exception {
        Path script = Files.writeString(dir.resolve("Casse.java"), "public class Casse { public static void main(String... a) { int x = \"texte\"; } }");
        Program.Build build = Program.prepare(script).join();
        assertFalse(build.ok());
        assertTrue(build.problem().startsWith("ne compile pas : Casse.java:1: "), build.problem());
    }
}
