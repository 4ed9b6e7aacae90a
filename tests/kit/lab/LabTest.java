package kit.lab;

import kit.run.ScriptOutput;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.semantics.Checker;
import kit.util.Ports;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lab as users drive it: a real broker behind the proxy, steered with ./jbang fault (a subprocess, through the
 * launcher), the kit's own scripts as clients, and the trace read back through the control API.
 */
class LabTest {

    private static Lab lab;

    @BeforeAll
    static void start() {
        lab = Lab.start(1, 0, 0);
        // JBang builds the tooling on its first run: that build isn't what the timings below are about
        ScriptRunner.Result warm = ScriptRunner.jbang(Duration.ofMinutes(5), "fault", "--help");
        assertEquals(0, warm.exitCode(), warm.describe());
    }

    @AfterAll
    static void stop() {
        if (lab != null) lab.close();
    }

    private static ScriptRunner.Result fault(String... args) {
        List<String> all = new ArrayList<>(List.of("fault"));
        all.addAll(List.of(args));
        all.addAll(List.of("--control", lab.controlUrl()));
        return ScriptRunner.jbang(Duration.ofSeconds(60), all.toArray(String[]::new));
    }

    private static JsonArray traceSince(long since) {
        ScriptRunner.Result r = fault("trace", "--json", "--since", String.valueOf(since));
        assertEquals(0, r.exitCode(), r.describe());
        return JsonParser.parseString(r.stdout()).getAsJsonObject().getAsJsonArray("entries");
    }

    @Test
    void lostProduceResponse_armedFromTheCli_duplicatesTheAtLeastOnceScript_andTheTraceShowsIt() {
        String topic = "labo-" + UUID.randomUUID().toString().substring(0, 8);
        Topics.create(lab.bootstrapServers(), topic);
        long since = lab.kafka().trace().next();
        ScriptRunner.Result armed = fault("lose-response", "--api", "produce", "--nth", "2");
        assertEquals(0, armed.exitCode(), armed.describe());
        assertTrue(armed.stdout().contains("réponse perdue sur la requête Produce n°2"), armed.describe());

        ScriptRunner.Result run = ScriptRunner.jbang(Duration.ofSeconds(90), "scripts/ProducerAtLeastOnce.java",
                "-b", lab.bootstrapServers(), "-t", topic, "--count", "6", "--interval-ms", "20", "--run-id", "r1");
        assertEquals(0, run.exitCode(), run.describe());
        ScriptOutput out = run.output();
        List<String> sent = IntStream.rangeClosed(1, out.summaryInt("sent")).mapToObj(i -> "r1-" + i).toList();
        Checker.Report report = Checker.check(sent, Topics.readValues(lab.bootstrapServers(), topic, false), List.of());
        assertEquals(0, report.lost(), report.describe());
        assertTrue(report.duplicated() > 0, "la réponse perdue doit faire réessayer un lot déjà écrit : " + report.describe());

        ScriptRunner.Result status = fault("status");
        assertEquals(0, status.exitCode(), status.describe());
        assertTrue(status.stdout().contains("a eu lieu"), status.describe());

        JsonArray entries = traceSince(since);
        List<JsonObject> produce = new ArrayList<>();
        for (JsonElement e : entries) if (e.getAsJsonObject().get("api").getAsString().equals("Produce")) produce.add(e.getAsJsonObject());
        JsonObject dropped = produce.stream().filter(e -> e.get("action").getAsString().equals("RESPONSE_DROPPED")).findFirst()
                .orElseThrow(() -> new AssertionError("aucune réponse perdue dans la trace : " + entries));
        JsonObject part = dropped.getAsJsonArray("partitions").get(0).getAsJsonObject();
        assertEquals(topic, part.get("topic").getAsString());
        assertTrue(part.get("baseOffset").getAsLong() >= 0, "le broker a écrit le lot : son offset est connu " + dropped);
        assertTrue(part.get("records").getAsInt() > 0, dropped.toString());
        assertEquals("producer-1", dropped.get("clientId").getAsString().replaceAll("-\\d+$", "-1"));
        // the retry: a later Produce of the same partition, forwarded, with its own offset
        assertTrue(produce.stream().anyMatch(e -> e.get("seq").getAsLong() > dropped.get("seq").getAsLong()
                && e.get("action").getAsString().equals("FORWARDED")), produce.toString());
        assertEquals(0, fault("clear").exitCode());
    }

    @Test
    void armedFaultThatNeverFired_showsInStatus_andTheSvgIsWritten() throws Exception {
        assertEquals(0, fault("lose-request", "--api", "EndTxn", "--client-id", "personne").exitCode());
        ScriptRunner.Result status = fault("status");
        assertTrue(status.stdout().contains("requête perdue sur la requête EndTxn n°1 à venir du client « personne »")
                && status.stdout().contains("pas encore déclenchée"), status.describe());
        Path svg = Files.createTempFile("trace", ".svg");
        ScriptRunner.Result trace = fault("trace", "--svg", svg.toString());
        assertEquals(0, trace.exitCode(), trace.describe());
        String text = Files.readString(svg);
        assertTrue(text.contains("<svg"), text.substring(0, Math.min(200, text.length())));
        Files.deleteIfExists(svg);
        ScriptRunner.Result cleared = fault("clear");
        assertTrue(cleared.stdout().contains("retirée"), cleared.describe());
    }

    @Test
    void badInput_clearMessages_andUsageErrorsExit2() {
        ScriptRunner.Result unknown = fault("lose-request", "--api", "Produire");
        assertEquals(2, unknown.exitCode(), unknown.describe());
        assertTrue(unknown.stderr().contains("API inconnue") && unknown.stderr().contains("TxnOffsetCommit"), unknown.describe());

        ScriptRunner.Result nth0 = fault("lose-response", "--nth", "0");
        assertEquals(2, nth0.exitCode(), nth0.describe());
        ScriptRunner.Result negative = fault("delay", "--api", "Fetch", "--ms", "-5");
        assertEquals(2, negative.exitCode(), negative.describe());

        ScriptRunner.Result single = fault("stop-broker", "1");
        assertEquals(1, single.exitCode(), single.describe());
        assertTrue(single.stderr().contains("qu'un nœud") && single.stderr().contains("--brokers 3"), single.describe());
    }

    @Test
    void noLab_saysHowToStartOne_within5s() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        ScriptRunner.Result r = ScriptRunner.run(List.of(ScriptRunner.root().resolve("jbang").toString(), "fault", "status",
                "--control", "http://localhost:" + closed), ScriptRunner.root(), java.util.Map.of(), Duration.ofSeconds(30));
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("./jbang broker --faults"), r.describe());
        // the command itself answers within 5 s (JBang's own start is counted too)
        assertTrue((System.nanoTime() - t0) / 1e9 < 5 + 3, "trop lent : " + r.elapsed());
    }

    @Test
    void busyControlPort_namesThePortAndTheOption() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofSeconds(30), "broker", "--faults", "--port",
                    String.valueOf(Ports.freePort()), "--control-port", String.valueOf(port));
            assertEquals(1, r.exitCode(), r.describe());
            assertTrue(r.stderr().contains(String.valueOf(port)) && r.stderr().contains("--control-port"), r.describe());
        }
    }
}
