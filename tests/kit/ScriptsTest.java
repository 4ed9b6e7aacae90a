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
        // --instance-id: a static member of the classic protocol, which takes its partitions back at once
        Checker.Report report = crashThenRerun("ConsumerAtMostOnce", "--instance-id", "moi").report();
        assertEquals(1, report.lost(), report.describe());
        assertEquals(0, report.duplicated(), report.describe());
    }

    @Test
    void atLeastOnceConsumer_crashBetweenProcessingAndCommit_redeliversWithoutLoss() {
        // as a student runs it, without --instance-id: the relaunch waits for the group to declare the dead member dead
        CrashRerun run = crashThenRerun("ConsumerAtLeastOnce");
        assertEquals(0, run.report().lost(), run.report().describe());
        assertEquals(1, run.report().duplicated(), run.report().describe());
        // session.timeout.ms=10000: the wait is the scripts' 10 s, well under Kafka's default 45 s
        assertTrue(run.rerun().elapsed().toMillis() < 30_000, run.rerun().elapsed() + " : " + run.rerun().describe());
    }

    // ---- KIP-848: the same three lessons with group.protocol=consumer, given through --config -------------

    @Test
    void consumerProtocol_kip848_crashAndRelaunch_sameCountsAsTheClassicProtocol() throws Exception {
        Path config = Files.createTempFile("kip848", ".properties");
        Files.writeString(config, "group.protocol=consumer\n");
        try {
            // the three side by side (each relaunch waits 10 s for the broker to declare the crashed member dead)
            var amoRun = java.util.concurrent.CompletableFuture.supplyAsync(() -> crashThenRerun("ConsumerAtMostOnce", "--config", config.toString()));
            var aloRun = java.util.concurrent.CompletableFuture.supplyAsync(() -> crashThenRerun("ConsumerAtLeastOnce", "--config", config.toString()));
            var eosRun = java.util.concurrent.CompletableFuture.supplyAsync(() -> exactlyOnceCrashThenRerun("--config", config.toString()).report());
            CrashRerun amo = amoRun.join();
            assertEquals("consumer", amo.rerun().output().summary().get("group.protocol"), amo.rerun().describe());
            assertEquals(1, amo.report().lost(), "at-most-once : " + amo.report().describe());
            assertEquals(0, amo.report().duplicated(), "at-most-once : " + amo.report().describe());
            CrashRerun alo = aloRun.join();
            assertEquals("consumer", alo.rerun().output().summary().get("group.protocol"), alo.rerun().describe());
            assertEquals(0, alo.report().lost(), "at-least-once : " + alo.report().describe());
            assertEquals(1, alo.report().duplicated(), "at-least-once : " + alo.report().describe());
            Checker.Report eos = eosRun.join();
            assertEquals(0, eos.lost(), "exactly-once : " + eos.describe());
            assertEquals(0, eos.duplicated(), "exactly-once : " + eos.describe());
        } finally {
            Files.deleteIfExists(config);
        }
    }

    /** Two consumers started with the defaults in one group share a 2-partition topic: no fencing, nothing lost. */
    @Test
    void twoDefaultConsumers_oneGroup_splitTwoPartitions_withoutFencingOrLoss() throws Exception {
        twoConsumersSplitTwoPartitions("ConsumerAtLeastOnce");
    }

    /**
     * The exactly-once copier too, as the README says of every consumer: each instance has its own transactional.id
     * (KIP-447), so that the second one's initTransactions() does not fence the first; the output holds each record once.
     */
    @Test
    void twoDefaultExactlyOnceConsumers_oneGroup_splitTwoPartitions_outputHoldsEachRecordOnce() throws Exception {
        Shared run = twoConsumersSplitTwoPartitions("ConsumerExactlyOnce");
        Checker.Report output = Checker.checkProcessing(run.input(), KafkaFixture.readValues(KafkaFixture.bootstrap(), run.topic() + "-sortie", true));
        assertEquals(0, output.lost(), "sortie : " + output.describe());
        assertEquals(0, output.duplicated(), "sortie : " + output.describe());
        assertEquals(2, run.runs().stream().map(ScriptsTest::transactionalId).distinct().count(), "un transactional.id par instance");
    }

    private record Shared(String topic, List<String> input, List<ScriptRunner.Result> runs) { }

    /** Two instances of {@code script}, same options, on a 2-partition topic: each reads one partition, together everything once. */
    private static Shared twoConsumersSplitTwoPartitions(String script) throws Exception {
        String topic = "partage-" + UUID.randomUUID().toString().substring(0, 8);
        kit.run.Topics.create(KafkaFixture.bootstrap(), topic, 2);
        if (script.equals("ConsumerExactlyOnce")) KafkaFixture.createTopic(KafkaFixture.bootstrap(), topic + "-sortie");
        String group = "g-" + topic;
        List<String> args = List.of("scripts/" + script + ".java", "-b", KafkaFixture.bootstrap(), "-t", topic, "-g", group,
                "--max", "10", "--idle-ms", "20000");
        // built once before the two start: two JBang launches building the same changed script at once can break its jar
        ScriptRunner.Result build = ScriptRunner.jbang(RUN_LIMIT, "build", "scripts/" + script + ".java");
        assertEquals(0, build.exitCode(), build.describe());
        var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> ScriptRunner.jbang(RUN_LIMIT, args.toArray(String[]::new)));
        var second = java.util.concurrent.CompletableFuture.supplyAsync(() -> ScriptRunner.jbang(RUN_LIMIT, args.toArray(String[]::new)));
        // written once both members hold a partition each, so that neither can read it all alone
        awaitMembersWithOnePartitionEach(group, 2, List.of(first, second));
        List<String> input = new ArrayList<>();
        for (int partition = 0; partition < 2; partition++) {
            int p = partition;
            List<String> values = IntStream.rangeClosed(1, 10).mapToObj(i -> "p" + p + "-" + i).toList();
            kit.run.Topics.fill(KafkaFixture.bootstrap(), topic, values, partition);
            input.addAll(values);
        }
        List<String> processed = new ArrayList<>();
        Set<Integer> partitionsRead = new HashSet<>();
        List<ScriptRunner.Result> runs = List.of(first.get(), second.get());
        for (ScriptRunner.Result r : runs) {
            assertEquals(0, r.exitCode(), r.describe());
            assertFalse(r.stderr().contains("Fenced") || r.stderr().contains("Erreur"), "aucun consommateur écarté : " + r.describe());
            Set<Integer> own = new HashSet<>();
            r.output().records().forEach(rec -> own.add(rec.partition()));
            assertEquals(1, own.size(), "chaque consommateur lit une seule partition : " + r.describe());
            partitionsRead.addAll(own);
            processed.addAll(r.output().values());
        }
        assertEquals(Set.of(0, 1), partitionsRead, "les deux partitions, une chacun");
        Checker.Report report = Checker.checkProcessing(input, processed);
        assertEquals(0, report.lost(), report.describe());
        assertEquals(0, report.duplicated(), report.describe());
        return new Shared(topic, input, runs);
    }

    /** The transactional.id an exactly-once consumer says it uses, at start-up (printed before any crash). */
    private static String transactionalId(ScriptRunner.Result r) {
        return r.stdout().lines().filter(l -> l.startsWith("transactional.id de cette instance : ")).findFirst()
                .map(l -> l.substring("transactional.id de cette instance : ".length())).orElseThrow(() -> new AssertionError(r.describe()));
    }

    /**
     * Waits (60 s at most) until the group has that many members, each assigned exactly one partition; fails at once,
     * with its output, if one of the {@code runs} ends first.
     */
    private static void awaitMembersWithOnePartitionEach(String group, int members,
                                                         List<java.util.concurrent.CompletableFuture<ScriptRunner.Result>> runs) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                kit.run.Topics.adminProps(KafkaFixture.bootstrap()))) {
            while (System.currentTimeMillis() < deadline) {
                try {
                    var description = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get(10, TimeUnit.SECONDS);
                    if (description.members().size() == members
                            && description.members().stream().allMatch(m -> m.assignment().topicPartitions().size() == 1)) return;
                } catch (java.util.concurrent.ExecutionException notYet) {
                    // the group does not exist until its first member joins
                }
                for (var run : runs) if (run.isDone()) throw new AssertionError("un consommateur s'est arrêté avant le partage : " + run.get().describe());
                Thread.sleep(200);
            }
        }
        throw new AssertionError("le groupe " + group + " n'a pas eu " + members + " membres d'une partition chacun en 60 s");
    }

    /**
     * The copier's two crash points, side by side: before sendOffsetsToTransaction (the default), and with the offsets in
     * the transaction but commitTransaction never called. The second runs with --instance-id and no --transactional-id:
     * the relaunch derives the same transactional.id, and its initTransactions() aborts the dead one's transaction
     * (output and offsets) at once. Either way the output holds each record once.
     */
    @Test
    void exactlyOnceConsumer_crashBeforeSendOffsets_orBeforeCommit_outputHasNoLossNoDuplicate() {
        var beforeOffsets = java.util.concurrent.CompletableFuture.supplyAsync(() -> exactlyOnceCrashThenRerun("--instance-id", "moi"));
        var beforeCommit = java.util.concurrent.CompletableFuture.supplyAsync(() -> exactlyOnceCrashThenRerun(
                List.of("--instance-id", "moi"), List.of("--crash-point", "avant-commit")));
        CrashRerun offsets = beforeOffsets.join();
        assertTrue(offsets.crashed().stdout().contains("avant sendOffsetsToTransaction"), offsets.crashed().describe());
        assertEquals(0, offsets.report().lost(), "avant-offsets : " + offsets.report().describe());
        assertEquals(0, offsets.report().duplicated(), "avant-offsets : " + offsets.report().describe());
        CrashRerun commit = beforeCommit.join();
        assertTrue(commit.crashed().stdout().contains("après sendOffsetsToTransaction (offsets envoyés), avant commitTransaction"),
                commit.crashed().describe());
        assertEquals(transactionalId(commit.crashed()), transactionalId(commit.rerun()), "même --instance-id, même transactional.id");
        assertEquals(0, commit.report().lost(), "avant-commit : " + commit.report().describe());
        assertEquals(0, commit.report().duplicated(), "avant-commit : " + commit.report().describe());
    }

    /** ConsumerExactlyOnce crashed on its 5th record, then relaunched: what its output topic holds (read_committed). */
    private static CrashRerun exactlyOnceCrashThenRerun(String... more) {
        String topic = KafkaFixture.newTopic("eos-in");
        List<String> both = new ArrayList<>(List.of("--transactional-id", "tx-" + topic));
        both.addAll(List.of(more));
        return exactlyOnceCrashThenRerun(topic, both, List.of());
    }

    private static CrashRerun exactlyOnceCrashThenRerun(List<String> both, List<String> crashOnly) {
        return exactlyOnceCrashThenRerun(KafkaFixture.newTopic("eos-in"), both, crashOnly);
    }

    /** {@code both}: arguments of the crashed run and of its relaunch; {@code crashOnly}: of the crashed run alone. */
    private static CrashRerun exactlyOnceCrashThenRerun(String topic, List<String> both, List<String> crashOnly) {
        String output = topic + "-sortie";
        KafkaFixture.createTopic(KafkaFixture.bootstrap(), output);
        List<String> input = fill(topic, 10);
        String group = "g-" + topic;
        List<String> rerunArgs = new ArrayList<>(List.of("--output-topic", output));
        rerunArgs.addAll(both);
        List<String> crash = new ArrayList<>(rerunArgs);
        crash.addAll(crashOnly);
        crash.addAll(List.of("--crash-after", "5"));
        ScriptRunner.Result crashed = consumer("ConsumerExactlyOnce", topic, group, crash.toArray(String[]::new));
        assertEquals(137, crashed.exitCode(), crashed.describe());
        assertTrue(crashed.output().crashed(), crashed.describe());
        ScriptRunner.Result rerun = consumer("ConsumerExactlyOnce", topic, group, rerunArgs.toArray(String[]::new));
        assertEquals(0, rerun.exitCode(), rerun.describe());
        // the side effect outside Kafka (the printed line) did happen twice, for every record of the poll batch that held
        // the 5th: the relaunch reads the whole batch again from the last committed offset. That is the lesson's caveat
        List<String> printed = new ArrayList<>(crashed.output().values());
        printed.addAll(rerun.output().values());
        assertTrue(Checker.checkProcessing(input, printed).duplicated() >= 1, "les lignes du lot du message 5 sont affichées deux fois");
        return new CrashRerun(crashed, rerun, Checker.checkProcessing(input, KafkaFixture.readValues(KafkaFixture.bootstrap(), output, true)));
    }

    /**
     * An exactly-once producer whose transaction fails 5 times over (every record bigger than max.request.size=10, an
     * abortable error) stops there, code 1, in French: it does not go on to the next batch and leave a gap behind.
     */
    @Test
    void exactlyOnceProducer_transactionFailingFiveTimes_stopsWithCode1_insteadOfLeavingAGap() throws Exception {
        String topic = KafkaFixture.newTopic("eos-echec");
        Path tooSmall = Files.createTempFile("petit", ".properties");
        Files.writeString(tooSmall, "max.request.size=10\n");
        ScriptRunner.Result r = script("ProducerExactlyOnce", "-t", topic, "--count", "4", "--transaction-size", "2",
                "--run-id", "trou", "--transactional-id", "tx-" + topic, "--config", tooSmall.toString());
        Files.deleteIfExists(tooSmall);
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("Erreur : la transaction 1 a échoué 5 fois") && r.stderr().contains("pas de trou"), r.describe());
        assertFalse(r.stderr().contains("\tat "), "pas de trace de pile : " + r.describe());
        assertFalse(r.stdout().contains("(transaction 2)"), "aucun envoi du lot suivant : " + r.describe());
        assertEquals(List.of(), KafkaFixture.readValues(KafkaFixture.bootstrap(), topic, true), "rien de validé");
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
        // a key the client itself doesn't know (a serializer's, an interceptor's) is passed on as well
        Files.writeString(props, "client.id=depuis-le-fichier\nune.option.du.serialiseur=oui\n");
        String topic = KafkaFixture.newTopic("config");
        // -v: the client logs its effective configuration, where the file's value must show
        ScriptRunner.Result r = script("ProducerAtLeastOnce", "-t", topic, "--count", "2", "--config", props.toString(), "-v");
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("client.id = depuis-le-fichier"), "le réglage du fichier doit s'appliquer : " + r.describe());
        // Kafka names, with -v, the keys it was given and did not use: this one reached the client
        assertTrue(r.stderr().contains("une.option.du.serialiseur"), "une clé inconnue du client doit lui être passée : " + r.describe());
        // a setting outside the semantic: no warning, and the summary has the course's values
        assertFalse(r.stderr().contains("Attention"), r.describe());
        assertEquals("all", r.output().summary().get("acks"), r.describe());
        assertEquals("false", r.output().summary().get("enable.idempotence"), r.describe());
        Files.deleteIfExists(props);
    }

    @Test
    void configFile_changingTheSemantic_isAppliedWithAFrenchWarning_andShowsInTheSummary() throws Exception {
        Path props = Files.createTempFile("client", ".properties");
        Files.writeString(props, "acks=1\nretries=0\n");
        String topic = KafkaFixture.newTopic("config-semantique");
        ScriptRunner.Result r = script("ProducerAtLeastOnce", "-t", topic, "--count", "2", "--config", props.toString());
        Files.deleteIfExists(props);
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("Attention : --config change acks de « all » en « 1 » : seul le leader confirme"), r.describe());
        assertTrue(r.stderr().contains("Attention : --config change retries de « 5 » en « 0 »"), r.describe());
        assertEquals("1", r.output().summary().get("acks"), r.describe());
        assertEquals("0", r.output().summary().get("retries"), r.describe());
        assertTrue(r.stdout().contains("réglages effectifs : acks=1 retries=0"), r.describe());
        // a consumer's key: the transactional copier told to read what aborted transactions wrote
        Path consumerProps = Files.createTempFile("client", ".properties");
        Files.writeString(consumerProps, "isolation.level=read_uncommitted\n");
        ScriptRunner.Result c = consumer("ConsumerExactlyOnce", topic, "g-" + topic, "--transactional-id", "tx-" + topic,
                "--config", consumerProps.toString());
        Files.deleteIfExists(consumerProps);
        assertEquals(0, c.exitCode(), c.describe());
        assertTrue(c.stderr().contains("Attention : --config change isolation.level de « read_committed » en « read_uncommitted »"), c.describe());
        assertEquals("read_uncommitted", c.output().summary().get("isolation.level"), c.describe());
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

    /** A consumer crashed on its 5th record, then relaunched, with the same extra arguments; what the pair processed. */
    private record CrashRerun(ScriptRunner.Result crashed, ScriptRunner.Result rerun, Checker.Report report) { }

    private static CrashRerun crashThenRerun(String script, String... more) {
        String topic = KafkaFixture.newTopic("crash");
        List<String> input = fill(topic, 10);
        String group = "g-" + topic;
        List<String> crash = new ArrayList<>(List.of(more));
        crash.addAll(List.of("--crash-after", "5"));
        ScriptRunner.Result crashed = consumer(script, topic, group, crash.toArray(String[]::new));
        assertEquals(137, crashed.exitCode(), crashed.describe());
        assertTrue(crashed.output().crashed(), crashed.describe());
        ScriptRunner.Result rerun = consumer(script, topic, group, more);
        assertEquals(0, rerun.exitCode(), rerun.describe());
        List<String> processed = new ArrayList<>(crashed.output().values());
        processed.addAll(rerun.output().values());
        return new CrashRerun(crashed, rerun, Checker.checkProcessing(input, processed));
    }

    static ScriptRunner.Result consumer(String script, String topic, String group, String... more) {
        return consumer(Map.of(), p -> { }, script, topic, group, more);
    }

    private static ScriptRunner.Result consumer(Map<String, String> env, Consumer<Process> started, String script, String topic,
                                                String group, String... more) {
        List<String> args = new ArrayList<>(List.of("-t", topic, "-g", group, "--idle-ms", "1500"));
        args.addAll(List.of(more));
        return script(env, started, script, args.toArray(String[]::new));
    }

    static ScriptRunner.Result script(String script, String... args) {
        return script(Map.of(), p -> { }, script, args);
    }

    private static ScriptRunner.Result script(Map<String, String> env, Consumer<Process> started, String script, String... args) {
        List<String> all = new ArrayList<>(List.of("scripts/" + script + ".java", "-b", KafkaFixture.bootstrap()));
        all.addAll(List.of(args));
        return ScriptRunner.jbang(RUN_LIMIT, env, started, all.toArray(String[]::new));
    }

    /** Writes n unique values into the topic with a plain producer, and returns them. */
    static List<String> fill(String topic, int n) {
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
