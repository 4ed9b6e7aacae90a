package kit.notebook;

import kit.KafkaFixture;
import kit.run.ScriptRunner;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The notebooks as a class runs them: the kernel installed by ./jbang kernel into a temporary Jupyter path, every
 * notebook executed headless by nbclient against the shared broker, and the fault cells' counts checked.
 */
class NotebooksTest {

    private static final String PYTHON = "/usr/bin/python3";
    private static Path jupyterPrefix;
    private static Path executed;
    private static ScriptRunner.Result run;

    /** Jupyter is part of CI: skipped loudly on a developer's machine without it, a failure when CI=true. */
    static void requireJupyter() {
        ScriptRunner.Result probe = ScriptRunner.run(List.of(PYTHON, "-c", "import nbclient, nbformat, jupyter_kernel_test"),
                Path.of("."), Map.of(), Duration.ofSeconds(30));
        boolean ok = probe.exitCode() == 0 && ScriptRunner.run(List.of("jupyter", "--version"), Path.of("."), Map.of(),
                Duration.ofSeconds(30)).exitCode() == 0;
        if (ok) return;
        String why = "Jupyter absent (jupyter, ou les modules Python nbclient / nbformat / jupyter_kernel_test) : "
                + "sudo apt install jupyter-nbconvert python3-nbclient python3-jupyter-kernel-test";
        if ("true".equals(System.getenv("CI"))) fail("CI=true : " + why);
        System.err.println("\n*** NOTEBOOKS NON TESTÉS *** " + why + "\n");
        Assumptions.abort(why);
    }

    @BeforeAll
    static void executeEveryNotebook() throws Exception {
        requireJupyter();
        jupyterPrefix = Files.createTempDirectory("jupyter-");
        ScriptRunner.Result kernel = ScriptRunner.jbang(Duration.ofMinutes(5), "kernel", "--prefix", jupyterPrefix.toString());
        assertEquals(0, kernel.exitCode(), kernel.describe());
        executed = Files.createTempDirectory("notebooks-executes-");
        List<String> command = new ArrayList<>(List.of(PYTHON, ScriptRunner.root().resolve("tests/notebooks/run_notebooks.py").toString(),
                executed.toString()));
        notebooks().forEach(p -> command.add(p.toString()));
        run = ScriptRunner.run(command, ScriptRunner.root(), env(), Duration.ofMinutes(10));
        System.out.println(run.stdout());
    }

    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("JUPYTER_PATH", jupyterPrefix.resolve("share/jupyter").toString());
        env.put("KAFKA_BOOTSTRAP_SERVERS", KafkaFixture.bootstrap());
        return env;
    }

    private static List<Path> notebooks() throws Exception {
        try (Stream<Path> s = Files.list(ScriptRunner.root().resolve("notebooks"))) {
            return s.filter(p -> p.toString().endsWith(".ipynb")).sorted().toList();
        }
    }

    @Test
    void everyNotebook_runsTopToBottom_withoutAnError() throws Exception {
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(8, notebooks().size(), "notebooks 00 à 07");
        for (Path nb : notebooks()) {
            for (JsonObject cell : codeCells(executed.resolve(nb.getFileName()))) {
                for (JsonElement o : cell.getAsJsonArray("outputs")) {
                    JsonObject out = o.getAsJsonObject();
                    assertTrue(!"error".equals(out.get("output_type").getAsString()), nb.getFileName() + " : " + out);
                    assertTrue(!out.has("name") || !"stderr".equals(out.get("name").getAsString()), nb.getFileName() + " écrit sur stderr : " + out);
                }
            }
        }
    }

    @Test
    void faultCells_showTheCountsTheCourseAnnounces() throws Exception {
        Map<String, String> rows = Map.of(
                "01-producteur-at-most-once.ipynb", "producteur at-most-once +requête perdue +10 +9 +1 +0 .*✔",
                "02-producteur-at-least-once.ipynb", "producteur at-least-once +réponse perdue +10 +\\d+ +0 +[1-9]\\d* .*✔",
                "03-producteur-exactly-once.ipynb", "producteur exactly-once +réponse perdue +10 +10 +0 +0 .*✔",
                "04-consommateur-at-most-once.ipynb", "consommateur at-most-once +crash au message 5 \\+ relance +10 +\\d+ +[1-9]\\d* +0 .*✔",
                "05-consommateur-at-least-once.ipynb", "consommateur at-least-once +crash au message 5 \\+ relance +10 +\\d+ +0 +[1-9]\\d* .*✔",
                "06-consommateur-exactly-once.ipynb", "consommateur exactly-once +crash au message 5 \\+ relance +10 +10 +0 +0 .*✔");
        for (var e : rows.entrySet()) {
            String text = taggedOutput(e.getKey(), "panne");
            assertTrue(text.matches("(?s).*" + e.getValue() + ".*"), e.getKey() + " : la cellule de panne doit montrer « " + e.getValue() + " »\n" + text);
        }
        assertTrue(taggedOutput("00-demarrage.ipynb", null).contains("Broker joignable"), "le notebook 00 voit le broker");
        assertTrue(taggedOutput("03-producteur-exactly-once.ipynb", null).contains("read_committed   : [valide-1, valide-2, valide-3]"));
    }

    @Test
    void notebook07_showsTheBenchTableAndChart() throws Exception {
        assertTrue(taggedOutput("07-cout-des-garanties.ipynb", "bench").contains("ProducerPerformance"));
        JsonObject chart = codeCells(executed.resolve("07-cout-des-garanties.ipynb")).stream()
                .filter(c -> tags(c).contains("graphique")).findFirst().orElseThrow();
        boolean image = false;
        for (JsonElement o : chart.getAsJsonArray("outputs")) {
            JsonObject out = o.getAsJsonObject();
            image |= out.has("data") && out.getAsJsonObject("data").has("image/png");
        }
        assertTrue(image, "le graphique du bench doit s'afficher (image/png) : " + chart);
    }

    @Test
    void committedNotebooks_carryNoOutputs_andAreWhatTheGeneratorWrites() throws Exception {
        for (Path nb : notebooks()) {
            for (JsonObject cell : codeCells(nb)) {
                assertEquals(0, cell.getAsJsonArray("outputs").size(), nb.getFileName() + " : sorties enregistrées");
                assertTrue(cell.get("execution_count").isJsonNull(), nb.getFileName() + " : execution_count enregistré");
            }
        }
        Path copy = Files.createTempDirectory("notebooks-generes-");
        Map<String, String> env = Map.of("KIT_NOTEBOOKS_OUT", copy.toString());
        ScriptRunner.Result gen = ScriptRunner.run(List.of(PYTHON, ScriptRunner.root().resolve("tooling/notebooks/make_notebooks.py").toString()),
                ScriptRunner.root(), env, Duration.ofMinutes(1));
        assertEquals(0, gen.exitCode(), gen.describe());
        for (Path nb : notebooks()) {
            assertEquals(Files.readString(copy.resolve(nb.getFileName())), Files.readString(nb),
                    nb.getFileName() + " diffère du générateur : relancez tooling/notebooks/make_notebooks.py");
        }
    }

    @Test
    void installedKernel_passesJupyterKernelTest() {
        ScriptRunner.Result r = ScriptRunner.run(List.of(PYTHON, "-m", "unittest", "-v", "test_kernel"),
                ScriptRunner.root().resolve("tests/notebooks"), env(), Duration.ofMinutes(5));
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("OK"), r.describe());
    }

    @Test
    void kernelCommand_withoutJupyter_explainsHowToInstallIt() {
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(2), "kernel", "--jupyter", "/nulle-part/jupyter");
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("apt install jupyter-notebook jupyter-nbconvert") && r.stderr().contains("pip install notebook"), r.describe());
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static List<JsonObject> codeCells(Path notebook) throws Exception {
        JsonArray cells = JsonParser.parseString(Files.readString(notebook)).getAsJsonObject().getAsJsonArray("cells");
        List<JsonObject> code = new ArrayList<>();
        for (JsonElement c : cells) if ("code".equals(c.getAsJsonObject().get("cell_type").getAsString())) code.add(c.getAsJsonObject());
        return code;
    }

    private static List<String> tags(JsonObject cell) {
        List<String> tags = new ArrayList<>();
        JsonObject meta = cell.getAsJsonObject("metadata");
        if (meta != null && meta.has("tags")) meta.getAsJsonArray("tags").forEach(t -> tags.add(t.getAsString()));
        return tags;
    }

    /** The text the cells with this tag printed (all code cells if tag is null), in the executed copy. */
    private static String taggedOutput(String notebook, String tag) throws Exception {
        StringBuilder text = new StringBuilder();
        for (JsonObject cell : codeCells(executed.resolve(notebook))) {
            if (tag != null && !tags(cell).contains(tag)) continue;
            for (JsonElement o : cell.getAsJsonArray("outputs")) {
                JsonObject out = o.getAsJsonObject();
                if (!out.has("text")) continue;
                JsonElement t = out.get("text");
                if (t.isJsonArray()) t.getAsJsonArray().forEach(x -> text.append(x.getAsString()));
                else text.append(t.getAsString());
            }
        }
        return text.toString();
    }
}
