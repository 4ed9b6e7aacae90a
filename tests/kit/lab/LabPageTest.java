package kit.lab;

import kit.broker.NodeHalts;
import kit.faults.FaultPlan;
import kit.faults.Trace;
import kit.faults.TraceEntry;
import kit.run.ScriptRunner;
import kit.run.Topics;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The lab's page in a real browser (Debian's chromium, driven by chromium-driver through Selenium): the teacher's
 * buttons arm the lab's faults and stop nodes, and what the students' code does shows up on the page, live.
 */
class LabPageTest {

    private static final Path CHROMIUM = Path.of(System.getProperty("kit.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("kit.chromedriver", "/usr/bin/chromedriver"));
    /**
     * The list of losses must show a lost response within this (the issue asks for 1 s); the diagram (PlantUML draws it on
     * the server) and the partition table (the Admin API, polled every 500 ms) within twice this. -Dkit.page.maxLatencyMs
     * to loosen it on a slow machine.
     */
    private static final long MAX_LATENCY_MS = Long.getLong("kit.page.maxLatencyMs", 1000);

    private static Lab lab;
    private static Path profile;
    private static WebDriver browser;

    @BeforeAll
    static void start() throws IOException {
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(CHROMIUM)) missing.add(CHROMIUM.toString());
        if (!Files.isExecutable(CHROMEDRIVER)) missing.add(CHROMEDRIVER.toString());
        if (!missing.isEmpty()) {
            fail("Les tests de la page du labo pilotent un vrai navigateur, introuvable ici : " + String.join(", ", missing)
                    + ". Installez les paquets Debian chromium et chromium-driver (sudo apt-get install chromium chromium-driver), "
                    + "ou donnez leurs chemins avec -Dkit.chromium=… -Dkit.chromedriver=….");
        }
        // the brokers run in this JVM: a fatal fault in one (it happened, rarely, to a node restarted on this loaded machine)
        // fails the test that caused it instead of halting the JVM and every test with it
        lab = startLab(1);
        NodeHalts.onFatal(LabPageTest::brokerGaveUp);
        // the driver is named explicitly: Selenium Manager (which would download one) is never asked
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        profile = Files.createTempDirectory("labo-page-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1600,1100",
                "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        // JBang builds the at-least-once script once: not what the timings below are about
        ScriptRunner.Result warm = ScriptRunner.jbang(Duration.ofMinutes(5), "scripts/ProducerAtLeastOnce.java", "--help");
        assertEquals(0, warm.exitCode(), warm.describe());
    }

    private static void brokerGaveUp(int code, String message) {
        System.out.println("Un broker du labo a voulu arrêter la JVM (code " + code + ", " + message + ") :");
        new Throwable().printStackTrace(System.out);
        throw new IllegalStateException("un broker du labo a voulu arrêter la JVM (code " + code + ")");
    }

    @AfterAll
    static void stop() {
        NodeHalts.onFatal(null);
        if (browser != null) browser.quit();
        if (lab != null) lab.close();
        if (profile != null) kit.util.Folders.deleteRecursively(profile);
    }

    @Test
    void lostProduceResponse_armedWithTheButton_showsTheDroppedResponseAndTheDuplicatesOffset_within1s() throws Exception {
        String topic = "page-" + UUID.randomUUID().toString().substring(0, 8);
        Topics.create(lab.bootstrapServers(), topic);
        open(lab);

        WebElement lose = browser.findElement(By.id("perdre-reponse"));
        assertEquals("perdre la prochaine réponse Produce", lose.getText());
        lose.click();
        waitFor(Duration.ofSeconds(10), "la panne armée affichée",
                () -> text("#pannes").contains("réponse perdue sur la requête Produce n°1 à venir : pas encore déclenchée"));
        assertTrue(text("#message").contains("Panne armée"), text("#message"));
        // the button went through the control API: the lab's plan holds the rule
        List<FaultPlan.Rule> rules = lab.kafka().faults().rules();
        FaultPlan.Rule rule = rules.get(rules.size() - 1);
        assertEquals(FaultPlan.Kind.LOSE_RESPONSE, rule.kind());
        assertEquals("Produce", rule.api().name);

        // when the lab drops the response, and when the write that takes the topic past the 6 records sent passes
        AtomicLong droppedAt = new AtomicLong();
        AtomicLong pastSentAt = new AtomicLong();
        Consumer<TraceEntry> clock = e -> {
            if (!"Produce".equals(e.api()) || e.partitions().isEmpty() || !topic.equals(e.partitions().get(0).topic())) return;
            if (e.action() == TraceEntry.Action.RESPONSE_DROPPED) droppedAt.compareAndSet(0, System.currentTimeMillis());
            TraceEntry.PartitionData p = e.partitions().get(0);
            if (p.baseOffset() >= 0 && p.baseOffset() + p.records() > 6) pastSentAt.compareAndSet(0, System.currentTimeMillis());
        };
        lab.kafka().trace().listen(clock);
        long lostSeenAt = 0, diagramSeenAt = 0, hwSeenAt = 0;
        ScriptRunner.Result run;
        try {
            CompletableFuture<ScriptRunner.Result> producer = CompletableFuture.supplyAsync(() -> ScriptRunner.jbang(Duration.ofSeconds(120),
                    "scripts/ProducerAtLeastOnce.java", "-b", lab.bootstrapServers(), "-t", topic, "--count", "6", "--interval-ms", "20",
                    "--run-id", "pg"));
            // watch the page while the producer runs: one script per round, every ~30 ms
            long deadline = System.currentTimeMillis() + 150_000;
            while (System.currentTimeMillis() < deadline && (lostSeenAt == 0 || diagramSeenAt == 0 || hwSeenAt == 0)) {
                @SuppressWarnings("unchecked")
                Map<String, Object> seen = (Map<String, Object>) js().executeScript(
                        "const lost = document.querySelector('#pertes li[data-action=RESPONSE_DROPPED]');"
                        + "const row = document.querySelector('#partitions tr[data-topic=\"" + topic + "\"] td.hw');"
                        + "return {lost: lost ? Number(lost.getAttribute('data-shown-at')) : 0,"
                        + " diagram: document.getElementById('diagramme').textContent.includes('réponse perdue')"
                        + "   ? Number(document.getElementById('diagramme').getAttribute('data-updated-at')) : 0,"
                        + " hw: row ? Number(row.textContent) : -1, now: Date.now()};");
                long now = ((Number) seen.get("now")).longValue();
                if (lostSeenAt == 0 && ((Number) seen.get("lost")).longValue() > 0) lostSeenAt = ((Number) seen.get("lost")).longValue();
                // the page's own clock (same machine): when it drew the diagram that shows it, not when we looked
                if (diagramSeenAt == 0 && ((Number) seen.get("diagram")).longValue() > 0) diagramSeenAt = ((Number) seen.get("diagram")).longValue();
                if (hwSeenAt == 0 && ((Number) seen.get("hw")).longValue() > 6) hwSeenAt = now;
                if (producer.isDone() && producer.get().exitCode() != 0) break;
                if (producer.isDone() && deadline > System.currentTimeMillis() + 10_000) deadline = System.currentTimeMillis() + 10_000;
                Thread.sleep(30);
            }
            run = producer.get(150, TimeUnit.SECONDS);
        } finally {
            lab.kafka().trace().unlisten(clock);
        }
        assertEquals(0, run.exitCode(), run.describe());
        int sent = run.output().summaryInt("sent");
        assertEquals(6, sent, run.describe());

        // what the lab saw: the dropped response, the offset the broker gave the batch, and the retry's offset
        List<TraceEntry> trace = lab.kafka().trace().since(0, false);
        TraceEntry dropped = trace.stream().filter(e -> e.action() == TraceEntry.Action.RESPONSE_DROPPED && "Produce".equals(e.api())
                && topic.equals(e.partitions().get(0).topic())).findFirst().orElseThrow(() -> new AssertionError("pas de réponse perdue : " + trace));
        long base = dropped.partitions().get(0).baseOffset();
        assertTrue(base >= 0, dropped.toString());
        assertTrue(droppedAt.get() > 0 && lostSeenAt > 0 && diagramSeenAt > 0 && hwSeenAt > 0,
                "la page doit montrer la réponse perdue (liste " + lostSeenAt + ", diagramme " + diagramSeenAt + ") et le high watermark "
                        + "au-delà des " + sent + " envoyés (" + hwSeenAt + ") :\n" + js().executeScript("return document.body.innerText;"));

        // 1) the list of losses names the batch's offset: the records there are written again by the retry
        String lostItem = "#pertes li[data-seq='" + dropped.seq() + "']";
        String item = text(lostItem);
        assertTrue(item.contains("réponse perdue") && item.contains("Produce") && item.contains(topic + "-0"), item);
        assertEquals(String.valueOf(base), attribute(lostItem + " .offset", "data-offset"), item);
        assertTrue(item.contains("doublon de l'offset " + base), item);
        // … and Kafka agrees: the value at that offset is written again further on
        List<ConsumerRecord<String, String>> records = Topics.readAll(lab.bootstrapServers(), topic, false);
        String value = valueAt(records, base);
        List<Long> copies = records.stream().filter(r -> r.value().equals(value)).map(ConsumerRecord::offset).toList();
        assertTrue(copies.size() == 2 && copies.get(0) == base && copies.get(1) > base, "le doublon nommé par la page (offset " + base
                + ", « " + value + " ») : " + copies);
        System.out.printf("Doublon montré par la page : « %s » aux offsets %s%n", value, copies);

        // 2) the diagram marks it, 3) the partition's high watermark is past the count sent, as Kafka says
        assertTrue(text("#diagramme").contains("réponse perdue"));
        String row = "#partitions tr[data-topic='" + topic + "'] ";
        long endOffset = records.get(records.size() - 1).offset() + 1;
        assertTrue(endOffset > sent, records.toString());
        waitFor(Duration.ofSeconds(5), "le high watermark " + endOffset, () -> text(row + "td.hw").equals(String.valueOf(endOffset)));
        assertEquals("0", text(row + "td.debut"));
        assertEquals(String.valueOf(endOffset), text(row + "td.lso"), "sans transaction, LSO = high watermark");
        waitFor(Duration.ofSeconds(5), "la panne marquée comme ayant eu lieu", () -> text("#pannes").contains("a eu lieu"));

        long lostLatency = lostSeenAt - droppedAt.get();
        long diagramLatency = diagramSeenAt - droppedAt.get();
        long hwLatency = hwSeenAt - pastSentAt.get();
        System.out.printf("LATENCE page du labo : liste des pertes %d ms, diagramme %d ms (après la réponse perdue ; dernier chargement "
                + "du SVG %s ms), high watermark %d ms (après l'écriture du doublon)%n", lostLatency, diagramLatency,
                attribute("#diagramme", "data-load-ms"), hwLatency);
        assertTrue(lostLatency >= 0 && lostLatency <= MAX_LATENCY_MS, "liste des pertes en " + lostLatency + " ms");
        assertTrue(diagramLatency <= 2 * MAX_LATENCY_MS, "diagramme en " + diagramLatency + " ms");
        assertTrue(hwLatency <= 2 * MAX_LATENCY_MS, "high watermark en " + hwLatency + " ms");
    }

    @Test
    void badInput_theLabsRefusalsAreShownInWords() {
        open(lab);
        int before = lab.kafka().faults().rules().size();

        setField("ms", "0");
        browser.findElement(By.id("retarder")).click();
        waitFor(Duration.ofSeconds(10), "le refus d'un retard nul", () -> shown("#erreur") && text("#erreur").contains("un retard demande « ms » > 0"));

        setField("ms", "2000");
        setField("nth", "0");
        browser.findElement(By.id("perdre-requete")).click();
        waitFor(Duration.ofSeconds(10), "le refus de nth = 0", () -> text("#erreur").contains("« nth » doit valoir au moins 1"));
        setField("nth", "1");

        clickNodeButton(1, "arrêter le nœud 1");
        waitFor(Duration.ofSeconds(10), "le refus d'arrêter le seul nœud",
                () -> text("#erreur").contains("qu'un nœud") && text("#erreur").contains("--brokers 3"));
        assertTrue(lab.kafka().cluster().isRunning(0));
        assertEquals(before, lab.kafka().faults().rules().size(), "rien n'a été armé");

        browser.findElement(By.id("erreur-fermer")).click();
        waitFor(Duration.ofSeconds(5), "le message fermé", () -> !shown("#erreur"));
    }

    @Test
    void threeNodes_stopANodeWithThePage_itIsMarkedDown_oneAtATime_andItComesBack() {
        try (Lab three = startLab(3)) {
            open(three);
            waitFor(Duration.ofSeconds(10), "trois nœuds en marche",
                    () -> browser.findElements(By.cssSelector(".noeud[data-up='true']")).size() == 3);

            long t0 = System.currentTimeMillis();
            clickNodeButton(2, "arrêter le nœud 2");
            waitFor(Duration.ofSeconds(60), "le nœud 2 marqué arrêté", () -> {
                List<WebElement> down = browser.findElements(By.cssSelector(".noeud[data-id='2'][data-up='false']"));
                return !down.isEmpty() && down.get(0).getText().contains("ARRÊTÉ");
            });
            System.out.printf("LATENCE page du labo : nœud 2 marqué arrêté %d ms après le clic (arrêt compris)%n", System.currentTimeMillis() - t0);
            assertFalse(three.kafka().cluster().isRunning(1), "le bouton arrête vraiment le nœud 2");
            assertEquals(2, browser.findElements(By.cssSelector(".noeud[data-up='true']")).size());

            // the lab refuses a second one, and the page says why
            clickNodeButton(3, "arrêter le nœud 3");
            waitFor(Duration.ofSeconds(10), "le refus d'arrêter un second nœud",
                    () -> text("#erreur").contains("nœud 2 est déjà arrêté") && text("#erreur").contains("quorum"));
            assertTrue(three.kafka().cluster().isRunning(2));

            clickNodeButton(2, "redémarrer le nœud 2");
            waitFor(Duration.ofSeconds(90), "le nœud 2 de nouveau en marche",
                    () -> browser.findElements(By.cssSelector(".noeud[data-id='2'][data-up='true']")).size() == 1);
            assertTrue(three.kafka().cluster().isRunning(1));

            // replication held from node 1 with the page, the page says so, and gives it back
            // clicked in the page's own script: the node boxes are drawn again at each state, a located button goes stale
            js().executeScript("document.querySelector(arguments[0]).click()", ".noeud[data-id='1'] button[data-action='hold-replication']");
            waitFor(Duration.ofSeconds(10), "la réplication retenue depuis le nœud 1",
                    () -> three.kafka().replication().holds().containsKey(1)
                            && text(".noeud[data-id='1']").contains("réplication retenue"));
            js().executeScript("document.querySelector(arguments[0]).click()", ".noeud[data-id='1'] button[data-action='release-replication']");
            waitFor(Duration.ofSeconds(10), "la réplication rendue", () -> three.kafka().replication().holds().isEmpty()
                    && !browser.findElements(By.cssSelector(".noeud[data-id='1'] button[data-action='hold-replication']")).isEmpty());
        }
    }

    @Test
    void events_aPageThatDoesNotRead_isBounded_toldToCatchUp_andForgottenOnceGone() throws Exception {
        browser.get("about:blank"); // only the raw connections below
        waitFor(Duration.ofSeconds(15), "aucune page connectée", () -> lab.page().clients() == 0);
        URI control = URI.create(lab.controlUrl());
        Socket slow = events(control.getPort());
        try (slow) {
            waitFor(Duration.ofSeconds(10), "la page lente connectée", () -> lab.page().clients() == 1);
            // a long bench through the lab: far more requests than the trace keeps, and a page that reads none of them
            int most = 0;
            for (int i = 0; i < 60_000; i++) {
                lab.kafka().trace().add(new TraceEntry(0, System.currentTimeMillis(), 1, "banc", "Produce", (short) 0, (short) 11, i,
                        TraceEntry.Action.FORWARDED, List.of(new TraceEntry.PartitionData("banc", 0, 100, -1, (short) -1, -1, i * 100L, null)),
                        List.of(), null, null, null));
                if (i % 1000 == 0) most = Math.max(most, lab.page().maxQueued());
            }
            most = Math.max(most, lab.page().maxQueued());
            assertTrue(most <= LabPage.MAX_QUEUED, "file d'une page : " + most);
            assertTrue(lab.kafka().trace().size() <= Trace.CAPACITY, "trace : " + lab.kafka().trace().size());

            // when it reads again, it's told to catch up (it reloads the diagram from the trace)
            slow.setSoTimeout(30_000);
            assertTrue(readUntil(slow.getInputStream(), "event: resync", 64 << 20).endsWith("event: resync"), "un événement resync était attendu");

            // too many pages: the lab says so in words
            List<Socket> others = new ArrayList<>();
            try {
                for (int i = 1; i < LabPage.MAX_CLIENTS; i++) others.add(events(control.getPort()));
                waitFor(Duration.ofSeconds(10), "huit pages connectées", () -> lab.page().clients() == LabPage.MAX_CLIENTS);
                try (Socket extra = events(control.getPort())) {
                    extra.setSoTimeout(10_000);
                    String answer = readUntil(extra.getInputStream(), "}", 4096);
                    assertTrue(answer.startsWith("HTTP/1.1 503") && answer.contains("trop de pages ouvertes"), answer);
                }
            } finally {
                for (Socket s : others) s.close();
            }
        } finally {
            // gone pages are forgotten at the next write (an event, or the ping)
            long t0 = System.currentTimeMillis();
            while (lab.page().clients() > 0 && System.currentTimeMillis() - t0 < 30_000) {
                lab.kafka().trace().add(new TraceEntry(0, System.currentTimeMillis(), 1, "banc", "Produce", (short) 0, (short) 11, 0,
                        TraceEntry.Action.FORWARDED, List.of(), List.of(), null, null, null));
                Thread.sleep(100);
            }
            lab.kafka().trace().reset();
        }
        assertEquals(0, lab.page().clients(), "les pages fermées doivent être oubliées");
    }

    // ------------------------------------------------------------------ helpers

    private static void open(Lab l) {
        browser.get(l.controlUrl() + "/");
        // as in class: the page is open before the students start (its first diagram warms PlantUML up, a few seconds)
        waitFor(Duration.ofSeconds(60), "la page en direct, son premier diagramme dessiné",
                () -> browser.findElement(By.id("direct")).getText().contains("en direct")
                        && !browser.findElements(By.cssSelector(".noeud")).isEmpty()
                        && browser.findElement(By.id("diagramme")).getAttribute("data-updated-at") != null);
        assertEquals("Labo Kafka : ce qui passe sur le réseau", browser.getTitle());
    }

    /** A lab on free ports; once more if another program took one of them between its choice and its use. */
    private static Lab startLab(int brokers) {
        try {
            return Lab.start(brokers, 0, 0);
        } catch (kit.broker.EmbeddedKafka.StartException e) {
            if (e.getMessage() == null || !e.getMessage().contains("already in use")) throw e;
            return Lab.start(brokers, 0, 0);
        }
    }

    private static JavascriptExecutor js() { return (JavascriptExecutor) browser; }

    private static String text(String css) {
        Object t = js().executeScript("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", css);
        return t == null ? "" : t.toString();
    }

    private static String attribute(String css, String name) {
        Object a = js().executeScript("const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;", css, name);
        return a == null ? null : a.toString();
    }

    private static boolean shown(String css) {
        return Boolean.TRUE.equals(js().executeScript("const e = document.querySelector(arguments[0]); return !!e && !e.hidden;", css));
    }

    private static void setField(String id, String value) {
        WebElement field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(value);
    }

    /**
     * Clicks node {@code id}'s button once it reads {@code label}: the page redraws its nodes at each refresh, so the
     * button is looked up again until a click lands on the one shown.
     */
    private static void clickNodeButton(int id, String label) {
        waitFor(Duration.ofSeconds(10), "un clic sur « " + label + " »", () -> {
            WebElement button = browser.findElement(By.cssSelector(".noeud[data-id='" + id + "'] button"));
            if (!label.equals(button.getText())) return false;
            button.click();
            return true;
        });
    }

    private static void waitFor(Duration timeout, String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) return;
                last = null;
            } catch (RuntimeException e) {
                last = e; // the page was redrawn under our feet: try again
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        Object shownText = browser == null ? "" : js().executeScript("return document.body.innerText;");
        String body = shownText == null ? "" : shownText.toString();
        throw new AssertionError("attendu en " + timeout.toSeconds() + " s : " + what + "\n--- page ---\n"
                + body.substring(0, Math.min(4000, body.length())), last);
    }

    private static String valueAt(List<ConsumerRecord<String, String>> records, long offset) {
        ConsumerRecord<String, String> r = records.stream().filter(x -> x.offset() == offset).findFirst().orElse(null);
        assertNotNull(r, "pas d'enregistrement à l'offset " + offset + " : " + records);
        return r.value();
    }

    /** A raw /api/events connection that reads nothing: the slowest page there is. */
    private static Socket events(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setReceiveBufferSize(4096);
        OutputStream out = s.getOutputStream();
        out.write(("GET /api/events HTTP/1.1\r\nHost: localhost:" + port + "\r\nAccept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    /** Reads until {@code marker} (included), the end of the stream, {@code limit} bytes or the socket's timeout; returns the tail read. */
    private static String readUntil(InputStream in, String marker, int limit) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        StringBuilder tail = new StringBuilder();
        int total = 0;
        try {
            for (int n; total < limit && (n = in.read(buffer)) > 0; total += n) {
                tail.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                int at = tail.indexOf(marker);
                if (at >= 0) return tail.substring(0, at + marker.length());
                if (tail.length() > 8192) tail.delete(0, tail.length() - 4096);
            }
        } catch (SocketTimeoutException e) {
            return tail.toString();
        }
        return tail.toString();
    }
}
