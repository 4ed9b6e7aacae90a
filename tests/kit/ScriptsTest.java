package kit;

import kit.run.ScriptOutput;
import kit.run.ScriptRunner;
import kit.semantics.Checker;
import kit.util.Ports;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The six teaching scripts, run as a student runs them (./jbang scripts/X.java), on the shared broker. */
class ScriptsTest {

    private static final Duration RUN_LIMIT = Duration.ofSeconds(90);

    // ---- each script runs end to end ----------------------------------------------------------

    @Test
    void everyProducer_happyPath_sendsAndAcknowledgesEverything() {
        everyProducerSendsAndAcknowledges(Map.of(), p -> { });
    }

    /** The three producers, with this environment added to theirs (Java25Test: JAVA_HOME); their runs. */
    static List<ScriptRunner.Result> everyProducerSendsAndAcknowledges(Map<String, String> env, Consumer<Process> started) {
        List<ScriptRunner.Result> runs = new ArrayList<>();
        for (String script : List.of("ProducerAtMostOnce", "ProducerAtLeastOnce", "ProducerExactlyOnce")) {
            String topic = KafkaFixture.newTopic("prod");
            List<String> args = new ArrayList<>(List.of("-t", topic, "--count", "7", "--run-id", "ok"));
            if (script.equals("ProducerExactlyOnce")) args.addAll(List.of("--transactional-id", "tx-" + topic));
            ScriptRunner.Result r = script(env, started, script, args.toArray(String[]::new));
            runs.add(r);
            assertEquals(0, r.exitCode(), script + " : " + r.describe());
            ScriptOutput out = r.output();
            assertEquals("producer", out.summary().get("role"), script + " : " + r.describe());
            assertEquals(7, out.summaryInt("sent"), script);
            assertEquals(7, out.summaryInt("acked"), script);
            assertEquals(0, out.summaryInt("failed"), script);
            List<String> expected = IntStream.rangeClosed(1, 7).mapToObj(i -> "ok-" + i).toList();
            Checker.Report report = Checker.checkProcessing(expected, KafkaFixture.readValues(KafkaFixture.bootstrap(), topic, true));
            assertEquals(0, report.lost(), script + " : " + report.describe());
            assertEquals(0, report.duplicated(), script + " : " + report.describe());
        }
        return runs;
    }

    @Test
    void everyConsumer_happyPath_processesEachRecordOnce() {
        everyConsumerProcessesEachRecordOnce(Map.of(), p -> { });
    }

    /** The three consumers, with this environment added to theirs (Java25Test: JAVA_HOME); their runs. */
    static List<ScriptRunner.Result> everyConsumerProcessesEachRecordOnce(Map<String, String> env, Consumer<Process> started) {
        List<ScriptRunner.Result> runs = new ArrayList<>();
        for (String script : List.of("ConsumerAtMostOnce", "ConsumerAtLeastOnce", "ConsumerExactlyOnce")) {
            String topic = KafkaFixture.newTopic("cons");
            List<String> input = fill(topic, 6);
            ScriptRunner.Result r = script.equals("ConsumerExactlyOnce")
                    ? consumer(env, started, script, topic, "g-" + topic, "--transactional-id", "tx-" + topic)
                    : consumer(env, started, script, topic, "g-" + topic);
            runs.add(r);
            assertEquals(0, r.exitCode(), script + " : " + r.describe());
            ScriptOutput out = r.output();
            assertEquals("consumer", out.summary().get("role"), script + " : " + r.describe());
            assertEquals(6, out.summaryInt("processed"), script);
            assertTrue(out.records().stream().allMatch(rec -> rec.topic().equals(topic)), "format [topic pN@offset] valeur");
            Checker.Report report = Checker.checkProcessing(input, out.values());
            assertEquals(0, report.lost() + report.duplicated(), script + " : " + report.describe());
        }
        return runs;
    }

    /** The six scripts on Java 25 (KIT_JAVA25_HOME): the same results, every JVM a Java 25, and no JVM warning in their output. */
    @Test
    void everyScript_onJava25_happyPath_withoutJvmWarnings() throws Exception {
        Java25.Jvms jvms = new Java25.Jvms();
        List<ScriptRunner.Result> runs = new ArrayList<>(everyProducerSendsAndAcknowledges(Java25.env(), jvms));
        runs.addAll(everyConsumerProcessesEachRecordOnce(Java25.env(), jvms));
        assertEquals(6, runs.size());
        for (ScriptRunner.Result r : runs) Java25.assertNoJvmNoise("un script sous Java 25", r);
        jvms.assertAllJava25("les six scripts");
    }

    // ---- crash, then rerun: the counts the course promises ------------------------------------

    @Test
    void atMostOnceConsumer_crashBetweenCommitAndProcessing_losesExactlyOneWithoutDuplicate() {
        Checker.Report report = crashThenRerun("ConsumerAtMostOnce");
        assertEquals(1, report.lost(), report.describe());
        assertEquals(0, report.duplicated(), report.describe());
    }

    @Test
    void atLeastOnceConsumer_crashBetweenProcessingAndCommit_redeliversWithoutLoss() {
        Checker.Report report = crashThenRerun("ConsumerAtLeastOnce");
        assertEquals(0, report.lost(), report.describe());
        assertTrue(report.duplicated() >= 1, report.describe());
    }

    @Test
    void exactlyOnceConsumer_crashBeforeCommitTransaction_outputHasNoLossNoDuplicate() {
        String topic = KafkaFixture.newTopic("eos-in");
        String output = topic + "-sortie";
        KafkaFixture.createTopic(KafkaFixture.bootstrap(), output);
        List<String> input = fill(topic, 10);
        String group = "g-" + topic;
        String txId = "tx-" + topic;
        ScriptRunner.Result crashed = consumer("ConsumerExactlyOnce", topic, group, "--output-topic", output,
                "--transactional-id", txId, "--crash-after", "5");
        assertEquals(137, crashed.exitCode(), crashed.describe());
        assertTrue(crashed.output().crashed(), crashed.describe());
        ScriptRunner.Result rerun = consumer("ConsumerExactlyOnce", topic, group, "--output-topic", output, "--transactional-id", txId);
        assertEquals(0, rerun.exitCode(), rerun.describe());

        Checker.Report report = Checker.checkProcessing(input, KafkaFixture.readValues(KafkaFixture.bootstrap(), output, true));
        assertEquals(0, report.lost(), report.describe());
        assertEquals(0, report.duplicated(), report.describe());
        // the side effect outside Kafka (the printed line) did happen twice: that is the lesson's caveat
        List<String> printed = new ArrayList<>(crashed.output().values());
        printed.addAll(rerun.output().values());
        assertTrue(Checker.checkProcessing(input, printed).duplicated() >= 1, "la ligne du message 5 est affichée deux fois");
    }

    @Test
    void exactlyOnceProducer_crashInsideTransaction_crashedRecordsInvisibleToReadCommitted() {
        String topic = KafkaFixture.newTopic("eos-prod");
        String txId = "tx-" + topic;
        ScriptRunner.Result crashed = script("ProducerExactlyOnce", "-t", topic, "--count", "10", "--transaction-size", "5",
                "--crash-after", "7", "--run-id", "zombie", "--transactional-id", txId);
        assertEquals(137, crashed.exitCode(), crashed.describe());
        ScriptRunner.Result rerun = script("ProducerExactlyOnce", "-t", topic, "--count", "5", "--transaction-size", "5",
                "--run-id", "relance", "--transactional-id", txId);
        assertEquals(0, rerun.exitCode(), rerun.describe());

        Set<String> committed = new HashSet<>(KafkaFixture.readValues(KafkaFixture.bootstrap(), topic, true));
        Set<String> everything = new HashSet<>(KafkaFixture.readValues(KafkaFixture.bootstrap(), topic, false));
        for (String v : List.of("zombie-6", "zombie-7")) {
            assertFalse(committed.contains(v), v + " (transaction interrompue) ne doit pas être visible en read_committed");
            assertTrue(everything.contains(v), v + " est bien dans le log (read_uncommitted)");
        }
        for (int i = 1; i <= 5; i++) assertTrue(committed.contains("zombie-" + i), "première transaction validée");
        for (int i = 1; i <= 5; i++) assertTrue(committed.contains("relance-" + i), "transaction de la relance");
    }

    @Test
    void exactlyOnceProducer_abortEvery_abortedBatchesInvisibleToReadCommitted() {
        String topic = KafkaFixture.newTopic("eos-abort");
        ScriptRunner.Result r = script("ProducerExactlyOnce", "-t", topic, "--count", "10", "--transaction-size", "5",
                "--abort-every", "2", "--run-id", "ab", "--transactional-id", "tx-" + topic);
        assertEquals(0, r.exitCode(), r.describe());
        List<String> aborted = r.output().summaryLongs("abortedSeqs").stream().map(s -> "ab-" + s).toList();
        assertEquals(List.of("ab-6", "ab-7", "ab-8", "ab-9", "ab-10"), aborted);
        List<Checker.ReadValue> read = KafkaFixture.readAll(KafkaFixture.bootstrap(), topic, true).stream()
                .map(rec -> new Checker.ReadValue(rec.value(), rec.offset())).toList();
        Checker.Report report = Checker.check(List.of("ab-1", "ab-2", "ab-3", "ab-4", "ab-5"), read, aborted);
        assertEquals(0, report.abortedRead(), report.describe());
        assertEquals(0, report.lost(), report.describe());
    }

    // ---- bad input ----------------------------------------------------------------------------

    @Test
    void noBroker_frenchMessageNamingTheAddress_exit1_within10s() throws Exception {
        int closedPort = Ports.freePort();
        for (String script : List.of("ProducerAtLeastOnce", "ConsumerExactlyOnce")) {
            ScriptRunner.Result r = ScriptRunner.jbang(RUN_LIMIT, "scripts/" + script + ".java", "-b", "localhost:" + closedPort);
            assertEquals(1, r.exitCode(), script + " : " + r.describe());
            assertTrue(r.stderr().contains("localhost:" + closedPort) && r.stderr().contains("./jbang broker"), r.describe());
            assertFalse(r.stderr().contains("\tat "), "pas de trace de pile : " + r.describe());
            assertTrue(r.elapsed().toMillis() < 10_000 + jbangOverheadMs(), script + " : " + r.elapsed());
        }
    }

    @Test
    void badOptions_usageMessage_exit2() {
        for (List<String> args : List.of(List.of("scripts/ProducerAtMostOnce.java", "--count", "abc"),
                List.of("scripts/ConsumerAtLeastOnce.java", "--nimporte-quoi"))) {
            ScriptRunner.Result r = ScriptRunner.jbang(RUN_LIMIT, args.toArray(String[]::new));
            assertEquals(2, r.exitCode(), args + " : " + r.describe());
            assertTrue(r.stderr().contains("Usage"), r.describe());
        }
    }

    @Test
    void unreadableConfigFile_clearMessage_exit1() {
        String missing = "/nonexistent/" + UUID.randomUUID() + ".properties";
        ScriptRunner.Result r = script("ProducerExactlyOnce", "--config", missing);
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains(missing), r.describe());
        assertFalse(r.stderr().contains("\tat "), r.describe());
    }

    @Test
    void configFile_isMergedIntoTheClientConfig() throws Exception {
        Path props = Files.createTempFile("client", ".properties");
        Files.writeString(props, "client.id=depuis-le-fichier\n");
        String topic = KafkaFixture.newTopic("config");
        // -v: the client logs its effective configuration, where the file's value must show
        ScriptRunner.Result r = script("ProducerAtLeastOnce", "-t", topic, "--count", "2", "--config", props.toString(), "-v");
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("client.id = depuis-le-fichier"), "le réglage du fichier doit s'appliquer : " + r.describe());
        Files.deleteIfExists(props);
    }

    @Test
    void ctrlC_producerStopsCleanly_exit130_noStackTrace() throws Exception {
        String topic = KafkaFixture.newTopic("ctrl-c");
        // a job started in the background inherits SIGINT ignored, and a JVM then never sees Ctrl-C:
        // reset it to the default first, as an interactive terminal has it (exec keeps the pid)
        Process p = new ProcessBuilder("/usr/bin/python3", "-c",
                "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
                ScriptRunner.root().resolve("jbang").toString(), "scripts/ProducerAtLeastOnce.java",
                "-b", KafkaFixture.bootstrap(), "-t", topic, "--count", "100000", "--interval-ms", "20")
                .directory(ScriptRunner.root().toFile()).redirectErrorStream(true).start();
        try {
            StringBuilder all = new StringBuilder();
            Thread drain = new Thread(() -> {
                try {
                    all.append(new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
                } catch (java.io.IOException ignored) {
                    // process gone
                }
            });
            drain.start();
            Thread.sleep(500);
            // wait until the script's own JVM runs (the launcher execs it, same pid) and has sent something
            long deadline = System.currentTimeMillis() + 60_000;
            while (KafkaFixture.readValues(KafkaFixture.bootstrap(), topic, false).isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "doit s'arrêter après Ctrl-C");
            drain.join(5000);
            assertEquals(130, p.exitValue(), all.toString());
            assertFalse(all.toString().contains("\tat ") || all.toString().contains("Exception"), all.toString());
        } finally {
            ScriptRunner.killTree(p.toHandle());
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static Checker.Report crashThenRerun(String script) {
        String topic = KafkaFixture.newTopic("crash");
        List<String> input = fill(topic, 10);
        String group = "g-" + topic;
        ScriptRunner.Result crashed = consumer(script, topic, group, "--crash-after", "5");
        assertEquals(137, crashed.exitCode(), crashed.describe());
        assertTrue(crashed.output().crashed(), crashed.describe());
        ScriptRunner.Result rerun = consumer(script, topic, group);
        assertEquals(0, rerun.exitCode(), rerun.describe());
        List<String> processed = new ArrayList<>(crashed.output().values());
        processed.addAll(rerun.output().values());
        return Checker.checkProcessing(input, processed);
    }

    private static ScriptRunner.Result consumer(String script, String topic, String group, String... more) {
        return consumer(Map.of(), p -> { }, script, topic, group, more);
    }

    private static ScriptRunner.Result consumer(Map<String, String> env, Consumer<Process> started, String script, String topic,
                                                String group, String... more) {
        List<String> args = new ArrayList<>(List.of("-t", topic, "-g", group, "--idle-ms", "1500"));
        args.addAll(List.of(more));
        return script(env, started, script, args.toArray(String[]::new));
    }

    private static ScriptRunner.Result script(String script, String... args) {
        return script(Map.of(), p -> { }, script, args);
    }

    private static ScriptRunner.Result script(Map<String, String> env, Consumer<Process> started, String script, String... args) {
        List<String> all = new ArrayList<>(List.of("scripts/" + script + ".java", "-b", KafkaFixture.bootstrap()));
        all.addAll(List.of(args));
        return ScriptRunner.jbang(RUN_LIMIT, env, started, all.toArray(String[]::new));
    }

    /** Writes n unique values into the topic with a plain producer, and returns them. */
    private static List<String> fill(String topic, int n) {
        String run = topic.substring(topic.lastIndexOf('-') + 1);
        List<String> values = IntStream.rangeClosed(1, n).mapToObj(i -> run + "-" + i).toList();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(KafkaFixture.producerProps(KafkaFixture.bootstrap(), "all"))) {
            for (String v : values) producer.send(new ProducerRecord<>(topic, v, v));
            producer.flush();
        }
        return values;
    }

    /** The launcher's own start-up is not the script's fault. */
    private static long jbangOverheadMs() {
        return 3000;
    }
}
