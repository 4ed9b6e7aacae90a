package kit.grade;

import kit.run.ScriptRunner;
import kit.util.Folders;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The templates of platforms/: each YAML parses, and the very command each template holds, run on a sample
 * submission (a correct ProducerAtMostOnce, with a one-exercise assignment to stay short), gives what the platform
 * reads: a JUnit report, a job summary, VPL's Grade/Comment lines, Gradescope's results.json.
 */
class PlatformsTest {

    private static final Path PLATFORMS = ScriptRunner.root().resolve("platforms");
    private static final String EXERCISE = "ProducerAtMostOnce";

    @Test
    void gitlab_gradesOnPush_keepsTheJunitReport_printsTheMark() throws Exception {
        Map<String, Object> ci = yaml(PLATFORMS.resolve("gitlab/.gitlab-ci.yml"));
        Map<String, Object> job = map(ci.get("note"));
        Map<String, Object> artifacts = map(job.get("artifacts"));
        assertEquals("rapport/junit.xml", map(artifacts.get("reports")).get("junit"));
        assertEquals("always", artifacts.get("when"));
        String command = gradeLine(list(job.get("script")));
        Path project = sample(Files.createTempDirectory("gitlab-"));
        ScriptRunner.Result r = shell(command, project, Map.of("CI_PROJECT_DIR", project.toString(), "GITLAB_USER_LOGIN", "alice"));
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stdout().contains("alice : 20.0/20"), "la note dans le journal du job\n" + r.describe());
        var junit = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(project.resolve("rapport/junit.xml").toFile());
        assertEquals("alice", ((org.w3c.dom.Element) junit.getElementsByTagName("testsuite").item(0)).getAttribute("name"));
        Folders.deleteRecursively(project);
    }

    @Test
    void github_gradesOnPush_writesReportMdToTheJobSummary() throws Exception {
        Map<String, Object> workflow = yaml(PLATFORMS.resolve("github/note.yml"));
        Map<String, Object> job = map(map(workflow.get("jobs")).get("note"));
        List<Object> steps = list(job.get("steps"));
        String grade = null;
        String summary = null;
        for (Object o : steps) {
            Map<String, Object> step = map(o);
            String run = (String) step.get("run");
            if (run == null) continue;
            if (run.contains("jbang\" grade@")) grade = run;
            if (run.contains("GITHUB_STEP_SUMMARY")) summary = run;
        }
        assertNotNull(grade, "pas d'étape qui note");
        assertNotNull(summary, "pas d'étape qui écrit le résumé");
        Path workspace = Files.createTempDirectory("github-");
        sample(Files.createDirectories(workspace.resolve("rendu")));
        Map<String, String> env = Map.of("GITHUB_WORKSPACE", workspace.toString(), "GITHUB_ACTOR", "bob",
                "GITHUB_STEP_SUMMARY", workspace.resolve("resume.md").toString());
        ScriptRunner.Result r = shell(grade, workspace, env);
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stdout().contains("bob : 20.0/20"), r.describe());
        ScriptRunner.Result s = shell(summary, workspace, env);
        assertEquals(0, s.exitCode(), s.describe());
        String md = Files.readString(workspace.resolve("resume.md"));
        assertTrue(md.startsWith("# Correction") && md.contains("| bob | 20.0 |"), md);
        Folders.deleteRecursively(workspace);
    }

    @Test
    void moodleVpl_evaluationPrintsCommentLines_thenTheGrade() throws Exception {
        Path dir = sample(Files.createTempDirectory("vpl-"));
        Files.copy(PLATFORMS.resolve("moodle-vpl/vpl_evaluate.sh"), dir.resolve("vpl_evaluate.sh"));
        ScriptRunner.Result prepare = ScriptRunner.run(List.of("/bin/bash", "vpl_evaluate.sh"), dir, env(Map.of()), Duration.ofMinutes(1));
        assertEquals(0, prepare.exitCode(), prepare.describe());
        ScriptRunner.Result r = ScriptRunner.run(List.of(dir.resolve("vpl_execution").toString()), dir, env(Map.of()), Duration.ofMinutes(8));
        assertEquals(0, r.exitCode(), r.describe());
        List<String> lines = r.stdout().lines().toList();
        assertTrue(lines.size() >= 3 && lines.stream().allMatch(l -> l.startsWith("Comment :=>>") || l.startsWith("Grade :=>>")), r.describe());
        assertEquals("Grade :=>> 20.00", lines.get(lines.size() - 1));
        assertTrue(r.stdout().contains("Comment :=>>" + EXERCISE + " : 20/20"), r.describe());
        // the "run" script prepares the same command, with the table shown
        Files.copy(PLATFORMS.resolve("moodle-vpl/vpl_run.sh"), dir.resolve("vpl_run.sh"));
        ScriptRunner.Result run = ScriptRunner.run(List.of("/bin/bash", "vpl_run.sh"), dir, env(Map.of()), Duration.ofMinutes(1));
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(Files.readString(dir.resolve("vpl_execution")).contains("--format vpl"));
        Folders.deleteRecursively(dir);
    }

    @Test
    void gradescope_writesResultsJson_inTheDocumentedShape() throws Exception {
        Path autograder = Files.createTempDirectory("gradescope-");
        sample(Files.createDirectories(autograder.resolve("submission")));
        ScriptRunner.Result r = ScriptRunner.run(List.of("/bin/bash", PLATFORMS.resolve("gradescope/run_autograder").toString()), autograder,
                env(Map.of("AUTOGRADER", autograder.toString())), Duration.ofMinutes(8));
        assertEquals(0, r.exitCode(), r.describe());
        JsonObject results = JsonParser.parseString(Files.readString(autograder.resolve("results/results.json"))).getAsJsonObject();
        assertEquals(20.0, results.get("score").getAsDouble(), 1e-9, results.toString());
        assertTrue(results.get("tests").isJsonArray() && results.getAsJsonArray("tests").size() >= 2, results.toString());
        double max = 0;
        for (JsonElement t : results.getAsJsonArray("tests")) {
            JsonObject test = t.getAsJsonObject();
            assertTrue(test.get("name").getAsString().contains(EXERCISE), test.toString());
            assertTrue(test.get("score").getAsJsonPrimitive().isNumber() && test.get("max_score").getAsJsonPrimitive().isNumber(), test.toString());
            assertTrue(test.get("output").isJsonPrimitive(), test.toString());
            max += test.get("max_score").getAsDouble();
        }
        assertEquals(20.0, max, 1e-6);
        assertTrue(Files.readString(PLATFORMS.resolve("gradescope/setup.sh")).contains("git clone"), "setup.sh installe le kit");
        Folders.deleteRecursively(autograder);
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /** The sample submission: a correct solution. */
    private static Path sample(Path dir) throws Exception {
        Files.copy(ScriptRunner.root().resolve("solutions").resolve(EXERCISE + ".java"), dir.resolve(EXERCISE + ".java"));
        return dir;
    }

    /** What the platform sets: the kit where the templates expect it (here, this checkout) and a short assignment. */
    private static Map<String, String> env(Map<String, String> more) {
        Map<String, String> env = new HashMap<>(more);
        env.put("KIT_DIR", ScriptRunner.root().toString());
        env.put("KIT_EXERCISES", EXERCISE);
        return env;
    }

    private static ScriptRunner.Result shell(String command, Path dir, Map<String, String> more) {
        return ScriptRunner.run(List.of("/bin/bash", "-e", "-c", command), dir, env(more), Duration.ofMinutes(8));
    }

    private static String gradeLine(List<Object> script) {
        return script.stream().map(String::valueOf).filter(l -> l.contains("jbang\" grade@")).findFirst()
                .orElseThrow(() -> new AssertionError("pas de commande de correction dans " + script));
    }

    private static Map<String, Object> yaml(Path file) throws Exception {
        Object doc = new Yaml().load(Files.readString(file));
        assertTrue(doc instanceof Map, file + " : YAML attendu (un dictionnaire)");
        return map(doc);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertTrue(o instanceof Map, "dictionnaire attendu : " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        assertTrue(o instanceof List, "liste attendue : " + o);
        return (List<Object>) o;
    }
}
