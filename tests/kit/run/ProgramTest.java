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
