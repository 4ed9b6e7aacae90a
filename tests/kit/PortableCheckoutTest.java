package kit;

import kit.run.JBang;
import kit.run.ScriptOutput;
import kit.run.ScriptRunner;
import kit.semantics.Checker;
import kit.util.Folders;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A teacher's checkout is rarely in /work: C:\Users\Élodie Martin\cours kafka. The kit is copied into a folder with
 * spaces and accents, then the tour, a script and the grader run from there as a user runs them, through ./jbang: once
 * with the JBang the launcher fetches, once with a JBang installed on PATH (the launcher execs it).
 */
class PortableCheckoutTest {

    private static final Duration LIMIT = Duration.ofMinutes(5);

    private static Path temp;
    private static Path checkout;

    @BeforeAll
    static void copyTheCheckout() throws Exception {
        assumeTrue("UTF-8".equalsIgnoreCase(System.getProperty("sun.jnu.encoding")),
                "noms de fichiers accentués impossibles ici (sun.jnu.encoding=" + System.getProperty("sun.jnu.encoding") + ")");
        temp = Files.createTempDirectory("kit-portable-");
        checkout = Files.createDirectories(temp.resolve("Élodie Martin").resolve("cours kafka"));
        Path root = ScriptRunner.root();
        // what a clone would hold, with this working tree's changes: tracked files and new ones git doesn't ignore
        ScriptRunner.Result files = ScriptRunner.run(List.of("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"),
                root, Map.of(), Duration.ofSeconds(60));
        assertEquals(0, files.exitCode(), files.describe());
        int copied = 0;
        for (String name : files.stdout().split("\0")) {
            if (name.isEmpty()) continue;
            Path from = root.resolve(name);
            if (!Files.isRegularFile(from)) continue;
            Path to = checkout.resolve(name);
            Files.createDirectories(to.getParent());
            Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
            copied++;
        }
        assertTrue(copied > 50 && Files.isExecutable(checkout.resolve("jbang")), copied + " fichiers copiés");
    }

    @AfterAll
    static void cleanUp() {
        Folders.deleteRecursively(temp);
    }

    @Test
    void accentedFolderWithSpaces_tourScriptAndGraderWork() throws Exception {
        Map<String, String> env = environment();
        env.put("KIT_IGNORE_PATH_JBANG", "1");
        tourScriptAndGrade(env);
    }

    /**
     * The launcher's first branch: a jbang on PATH wins (Windows users install it with winget, scoop or choco). That jbang
     * is JBang's own jar started as JBang's bin/jbang starts it: code 255 means « run the command printed on stdout ».
     */
    @Test
    void jbangOnPath_isTheOneTheLauncherRuns() throws Exception {
        List<String> jbang = JBang.command();
        assumeTrue(jbang != null && jbang.contains("-classpath"), "pas de jar de JBang à mettre dans le PATH : " + jbang);
        Path bin = Files.createDirectories(temp.resolve("Élodie Martin").resolve("outils jbang"));
        Files.copy(Path.of(jbang.get(jbang.indexOf("-classpath") + 1)), bin.resolve("jbang.jar"), StandardCopyOption.REPLACE_EXISTING);
        Path marker = bin.resolve("appels.txt");
        Path wrapper = bin.resolve("jbang");
        Files.writeString(wrapper, String.join("\n",
                "#!/usr/bin/env bash",
                "# JBang's launch protocol, as its bin/jbang: JBang's jar beside the script; 255 = exec the command printed on stdout",
                "printf '%s\\n' \"$*\" >> " + quoted(marker),
                "output=$(" + quoted(JBang.currentJava()) + " ${JBANG_JAVA_OPTIONS:-} -classpath " + quoted(bin.resolve("jbang.jar"))
                        + " dev.jbang.Main \"$@\")",
                "err=$?",
                "if [ $err -eq 255 ]; then eval \"exec $output\"; fi",
                "[ -n \"$output\" ] && printf '%s\\n' \"$output\"",
                "exit $err", ""), StandardCharsets.UTF_8);
        assertTrue(wrapper.toFile().setExecutable(true));
        Map<String, String> env = environment();
        env.put("PATH", bin + File.pathSeparator + System.getenv("PATH"));
        env.put("KIT_IGNORE_PATH_JBANG", "");
        tourScriptAndGrade(env);
        List<String> calls = Files.readAllLines(marker);
        for (String command : List.of("tour", "scripts/ProducerAtLeastOnce.java", "grade")) {
            assertTrue(calls.stream().anyMatch(c -> c.startsWith(command)), "le jbang du PATH n'a pas lancé « " + command + " » : " + calls);
        }
    }

    /** The test JVM's environment, without what would tell the kit where it is: it must find its root from where it runs. */
    private static Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        env.put("KIT_ROOT", "");
        env.put("JBANG_LAUNCH_CMD", "");
        return env;
    }

    /** The three things a teacher does, through ./jbang from the accented folder; each checked on its counts. */
    private static void tourScriptAndGrade(Map<String, String> env) throws Exception {
        ScriptRunner.Result tour = jbang(env, "tour", "--scenario", "producer-at-most-once");
        assertEquals(0, tour.exitCode(), tour.describe());
        assertTrue(tour.stdout().lines().anyMatch(l -> l.matches("producteur at-most-once +requête perdue +10 +9 +1 +0 .*✔.*")),
                "10 envoyés, 9 lus, 1 perdu, 0 doublon : " + tour.describe());

        String topic = KafkaFixture.newTopic("portable");
        ScriptRunner.Result script = jbang(env, "scripts/ProducerAtLeastOnce.java", "-b", KafkaFixture.bootstrap(), "-t", topic,
                "--count", "7", "--run-id", "elodie");
        assertEquals(0, script.exitCode(), script.describe());
        ScriptOutput out = script.output();
        assertEquals(7, out.summaryInt("sent"), script.describe());
        assertEquals(7, out.summaryInt("acked"), script.describe());
        List<String> expected = IntStream.rangeClosed(1, 7).mapToObj(i -> "elodie-" + i).toList();
        Checker.Report report = Checker.checkProcessing(expected, KafkaFixture.readValues(KafkaFixture.bootstrap(), topic, true));
        assertEquals(0, report.lost() + report.duplicated(), report.describe());

        ScriptRunner.Result grade = jbang(env, "grade", "solutions/ProducerAtMostOnce.java", "--exercises", "ProducerAtMostOnce", "--jobs", "1");
        assertEquals(0, grade.exitCode(), grade.describe());
        assertTrue(grade.stdout().lines().anyMatch(l -> l.matches(" *ProducerAtMostOnce +20/20 +✔.*")), "le corrigé a 20/20 : " + grade.describe());
        assertTrue(grade.stdout().contains(": 20.0/20"), grade.describe());
    }

    private static ScriptRunner.Result jbang(Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(checkout.resolve("jbang").toString()));
        command.addAll(List.of(args));
        return ScriptRunner.run(command, checkout, env, LIMIT);
    }

    /** A path in bash double quotes. */
    private static String quoted(Path p) {
        return "\"" + p.toString().replace("\\", "\\\\").replace("\"", "\\\"").replace("$", "\\$").replace("`", "\\`") + "\"";
    }
}
