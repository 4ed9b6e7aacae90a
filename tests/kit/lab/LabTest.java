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

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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

    private static ScriptRunner.Result fault(String... args) { return LabCalls.fault(lab, Duration.ofSeconds(60), args); }

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
        ScriptRunner.Result replication = fault("hold-replication");
        assertEquals(2, replication.exitCode(), replication.describe());
        assertTrue(replication.stderr().contains("qu'un nœud : pas de réplicas"), replication.describe());
        ScriptRunner.Result negativeHold = fault("hold-replication", "--ms", "-5");
        assertEquals(2, negativeHold.exitCode(), negativeHold.describe());
        assertTrue(negativeHold.stderr().contains("--ms ne peut pas être négatif"), negativeHold.describe());
    }

    @Test
    void noLab_saysHowToStartOne_within5s() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        // what starting the command costs on this machine now (JBang, the JVM): its --help, just before
        ScriptRunner.Result help = ScriptRunner.jbang(Duration.ofSeconds(60), "fault", "--help");
        assertEquals(0, help.exitCode(), help.describe());
        ScriptRunner.Result r = ScriptRunner.run(List.of(ScriptRunner.root().resolve("jbang").toString(), "fault", "status",
                "--control", "http://localhost:" + closed), ScriptRunner.root(), java.util.Map.of(), Duration.ofSeconds(60));
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("./jbang broker --faults"), r.describe());
        // the command itself answers within 5 s of its start (a loaded machine starts JVMs slowly: that is not the command's)
        assertTrue(r.elapsed().minus(help.elapsed()).toMillis() < 5_000, "trop lent : " + r.elapsed() + " contre " + help.elapsed()
                + " pour --help");
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
    @Test
    void controlApi_refusesAnotherSitesPost_nonJsonBodies_andForeignHostNames() throws Exception {
        String base = lab.controlUrl();
        HttpResponse<String> foreign = LabCalls.post(base, "/api/faults", "{\"kind\":\"lose-request\"}", "Origin", "http://exemple.invalid");
        assertEquals(403, foreign.statusCode(), foreign.body());
        assertTrue(foreign.body().contains("autre site"), foreign.body());
        HttpRequest form = HttpRequest.newBuilder(URI.create(base + "/api/faults")).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"lose-request\"}")).build();
        HttpResponse<String> plain = HttpClient.newHttpClient().send(form, HttpResponse.BodyHandlers.ofString());
        assertEquals(415, plain.statusCode(), plain.body());
        assertTrue(lab.kafka().faults().rules().isEmpty(), "aucune panne armée par ces requêtes refusées : " + lab.kafka().faults().rules());
        HttpResponse<String> own = LabCalls.post(base, "/api/clear", "{}", "Origin", base);
        assertEquals(200, own.statusCode(), own.body());

        // a DNS name of another site that points at 127.0.0.1 (DNS rebinding): its Host isn't the lab's
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), lab.control().port())) {
            s.getOutputStream().write("GET /api/status HTTP/1.1\r\nHost: exemple.invalid\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 403"), answer);
        }
    }

    @Test
    void byDefault_theControlPortIsNotReachableFromThisMachinesOtherAddresses() throws Exception {
        List<InetAddress> others = new ArrayList<>();
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) continue;
            for (InetAddress a : Collections.list(nic.getInetAddresses())) if (a instanceof Inet4Address) others.add(a);
        }
        assumeTrue(!others.isEmpty(), "cette machine n'a que l'interface de bouclage");
        for (InetAddress a : others) {
            try (Socket s = new Socket()) {
                assertThrows(ConnectException.class, () -> s.connect(new InetSocketAddress(a, lab.control().port()), 2000),
                        "le contrôle du labo ne doit pas répondre sur " + a.getHostAddress());
            }
        }
    }

    @Test
    void listen_asksForTheToken_401Without_200WithTheHeaderTheCliOrThePagesCookie() throws Exception {
        try (LabControl open = new LabControl(0, InetAddress.getByName("0.0.0.0")).serve(lab.kafka());
             LabPage page = new LabPage(open, lab.kafka())) {
            String base = open.url();
            String token = open.token();
            assertTrue(token != null && token.length() >= 32, "un jeton aléatoire : " + token);
            HttpResponse<String> without = LabCalls.get(base, "/api/status");
            assertEquals(401, without.statusCode(), without.body());
            assertTrue(without.body().contains("jeton manquant"), without.body());
            assertEquals(401, LabCalls.get(base, "/api/status", "Authorization", "Bearer faux").statusCode());
            assertEquals(401, LabCalls.get(base, "/").statusCode());
            assertEquals(200, LabCalls.get(base, "/api/status", "Authorization", "Bearer " + token).statusCode());

            // the page: its first load carries ?token=, the cookie then carries it for the page's own requests
            HttpResponse<String> first = LabCalls.get(base, "/?token=" + token);
            assertEquals(200, first.statusCode(), first.body());
            String cookie = first.headers().firstValue("Set-Cookie").orElseThrow();
            assertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), cookie);
            assertEquals(200, LabCalls.get(base, "/lab.js", "Cookie", cookie.split(";")[0]).statusCode());
            // a token doesn't let another site's page post
            assertEquals(403, LabCalls.post(base, "/api/clear", "{}", "Authorization", "Bearer " + token,
                    "Origin", "http://exemple.invalid").statusCode());

            assertTrue(without.body().contains("--token"), "le message dit comment passer le jeton : " + without.body());
            ScriptRunner.Result allowed = ScriptRunner.jbang(Duration.ofSeconds(60), "fault", "status", "--control", base, "--token", token);
            assertEquals(0, allowed.exitCode(), allowed.describe());
        }
    }

    @Test
    void acksZeroProduce_drawnWithoutAnswer_andTheClientFilterLeavesTheNeighboursOut() throws Exception {
        String topic = "acks0-" + UUID.randomUUID().toString().substring(0, 8);
        Topics.create(lab.bootstrapServers(), topic);
        String mine = "sans-reponse-" + topic;
        long since = lab.kafka().trace().next();
        // a neighbour on the same lab: another notebook's producer
        Properties neighbour = new Properties();
        neighbour.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, lab.bootstrapServers());
        neighbour.put(ProducerConfig.CLIENT_ID_CONFIG, "voisin-" + topic);
        try (KafkaProducer<String, String> p = new KafkaProducer<>(neighbour, new StringSerializer(), new StringSerializer())) {
            p.send(new ProducerRecord<>(topic, "voisin")).get(30, TimeUnit.SECONDS);
        }
        Path config = Files.createTempFile("client", ".properties");
        Files.writeString(config, "client.id=" + mine + "\n");
        ScriptRunner.Result run = ScriptRunner.jbang(Duration.ofSeconds(90), "scripts/ProducerAtMostOnce.java",
                "-b", lab.bootstrapServers(), "-t", topic, "--count", "3", "--run-id", "z0", "--config", config.toString());
        Files.deleteIfExists(config);
        assertEquals(0, run.exitCode(), run.describe());

        ScriptRunner.Result trace = fault("trace", "--json", "--since", String.valueOf(since), "--client-id", mine);
        assertEquals(0, trace.exitCode(), trace.describe());
        JsonArray entries = JsonParser.parseString(trace.stdout()).getAsJsonObject().getAsJsonArray("entries");
        assertTrue(entries.size() > 0, trace.describe());
        int produce = 0;
        for (JsonElement e : entries) {
            JsonObject o = e.getAsJsonObject();
            assertEquals(mine, o.get("clientId").getAsString(), "seulement mon client : " + o);
            if (o.get("api").getAsString().equals("Produce")) {
                produce++;
                assertTrue(!o.get("acks").isJsonNull() && o.get("acks").getAsInt() == 0, "acks=0 enregistré : " + o);
            }
        }
        assertTrue(produce > 0, entries.toString());

        String svg = LabCalls.get(lab.controlUrl(), "/api/trace.svg?since=" + since + "&client=" + mine).body();
        assertTrue(svg.contains("(acks=0)") && svg.contains("sans r"), "« sans réponse (acks=0) » dans le diagramme :\n" + svg);
        assertFalse(svg.contains(">ok<"), "une requête acks=0 n'a pas de réponse « ok »");
        assertFalse(svg.contains("voisin"), "le voisin n'est pas dans mon diagramme");
        assertTrue(LabCalls.get(lab.controlUrl(), "/api/trace.svg?since=" + since).body().contains("voisin"), "sans filtre, il y est");
    }
}
