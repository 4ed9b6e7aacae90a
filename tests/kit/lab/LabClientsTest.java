package kit.lab;

import kit.faults.TraceEntry;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.semantics.Checker;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lab with clients that aren't the kit's: the course's Python client (Debian's python3-confluent-kafka, librdkafka)
 * and kcat, unchanged, pointed at the lab. They meet the same faults, and the trace shows them.
 */
class LabClientsTest {

    private static final String PYTHON = "/usr/bin/python3";
    private static final String KCAT = "kcat";
    private static Lab lab;

    @BeforeAll
    static void start() {
        lab = Lab.start(1, 0, 0);
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    @Test
    void pythonAtLeastOnce_lostResponse_duplicates() throws Exception {
        Checker.Report r = python("all", false, "lose-response");
        assertEquals(0, r.lost(), r.describe());
        assertTrue(r.duplicated() >= 1, "librdkafka réessaie le lot dont la réponse est perdue : " + r.describe());
    }

    @Test
    void pythonIdempotent_lostResponse_neitherLosesNorDuplicates() throws Exception {
        Checker.Report r = python("all", true, "lose-response");
        assertEquals(0, r.lost(), r.describe());
        assertEquals(0, r.duplicated(), "le broker écarte le réessai (même numéro de séquence) : " + r.describe());
    }

    @Test
    void pythonAcks0_lostRequest_isASilentLoss() throws Exception {
        Checker.Report r = python("0", false, "lose-request");
        assertTrue(r.lost() >= 1, "acks=0 : personne ne sait que la requête est perdue : " + r.describe());
        assertEquals(0, r.duplicated(), r.describe());
    }

    /**
     * kcat as a producer, under a delayed Produce (kcat gives up at once when its only connection is cut, so a lost
     * response would end it rather than show a retry): everything arrives, late, and the trace says why.
     */
    @Test
    void kcatProducer_delayedProduce_arrivesLate_andTheTraceShowsTheDelay() throws Exception {
        String topic = topic();
        List<String> values = IntStream.rangeClosed(1, 5).mapToObj(i -> "kcat-" + i).toList();
        Path input = Files.createTempFile("kcat", ".txt");
        Files.writeString(input, String.join("\n", values) + "\n");
        long since = lab.kafka().trace().next();
        assertEquals(201, post("/api/faults", "{\"kind\":\"delay\",\"api\":\"Produce\",\"nth\":1,\"ms\":1500}").statusCode());
        ScriptRunner.Result run = ScriptRunner.run(List.of(KCAT, "-P", "-b", lab.bootstrapServers(), "-t", topic, "-l",
                "-X", "client.id=kcat-lab", input.toString()), ScriptRunner.root(), Map.of(), Duration.ofSeconds(60));
        Files.deleteIfExists(input);
        clear();
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.elapsed().toMillis() >= 1500, "le lot a attendu le retard : " + run.elapsed());
        Checker.Report r = Checker.checkProcessing(values, kcatRead(topic));
        assertTrue(r.clean(), r.describe());
        assertFaultTraced(since, "kcat-lab", TraceEntry.Action.DELAYED);
    }

    private static Checker.Report python(String acks, boolean idempotence, String fault) throws Exception {
        String topic = topic();
        long since = arm(fault, 2);
        ScriptRunner.Result run = ScriptRunner.run(List.of(PYTHON, ScriptRunner.root().resolve("tests").resolve("lab")
                .resolve("python_producer.py").toString(), lab.bootstrapServers(), topic, "6", acks, String.valueOf(idempotence)),
                ScriptRunner.root(), Map.of(), Duration.ofSeconds(90));
        clear();
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.stdout().contains("SENT=6"), run.describe());
        String client = idempotence ? "python-idempotent" : "python-acks-" + acks;
        assertFaultTraced(since, client, fault.equals("lose-request") ? TraceEntry.Action.REQUEST_DROPPED : TraceEntry.Action.RESPONSE_DROPPED);
        List<String> sent = IntStream.rangeClosed(1, 6).mapToObj(i -> "py-" + i).toList();
        return Checker.checkProcessing(sent, kcatRead(topic));
    }

    /** The {@code nth} Produce request from now on (the 2nd for the Python producer: the fault hits mid-stream). */
    private static long arm(String kind, int nth) throws Exception {
        long since = lab.kafka().trace().next();
        HttpResponse<String> r = post("/api/faults", "{\"kind\":\"" + kind + "\",\"api\":\"Produce\",\"nth\":" + nth + "}");
        assertEquals(201, r.statusCode(), r.body());
        return since;
    }

    private static void clear() throws Exception {
        assertEquals(200, post("/api/clear", "{}").statusCode());
    }

    private static HttpResponse<String> post(String path, String json) throws Exception {
        return LabCalls.post(lab.controlUrl(), path, json);
    }

    private static void assertFaultTraced(long since, String clientId, TraceEntry.Action action) {
        List<TraceEntry> entries = lab.kafka().trace().since(since, false);
        assertTrue(entries.stream().anyMatch(e -> e.api().equals("Produce") && e.action() == action
                        && e.clientId() != null && e.clientId().startsWith(clientId)),
                "la trace doit montrer « " + action.french + " » pour " + clientId + " : " + entries);
    }

    /** Everything in the topic, read by kcat (librdkafka reads read_committed by default). */
    private static List<String> kcatRead(String topic) {
        ScriptRunner.Result r = ScriptRunner.run(List.of(KCAT, "-C", "-b", lab.bootstrapServers(), "-t", topic, "-e", "-o", "beginning",
                "-q", "-f", "%s\\n"), ScriptRunner.root(), Map.of(), Duration.ofSeconds(60));
        assertEquals(0, r.exitCode(), r.describe());
        return Arrays.stream(r.stdout().split("\n")).filter(s -> !s.isBlank()).toList();
    }

    private static String topic() {
        String t = "clients-" + UUID.randomUUID().toString().substring(0, 8);
        Topics.create(lab.bootstrapServers(), t);
        return t;
    }
}
