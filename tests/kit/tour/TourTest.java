package kit.tour;

import kit.util.Folders;
import kit.faults.FaultPlan;
import kit.faults.FaultyKafka;
import kit.faults.TraceEntry;
import kit.Java25;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.semantics.Checker;
import kit.scenarios.Scenarios;
import kit.semantics.Semantic;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tour as a user runs it, and the scenarios it is made of: each semantic keeps its claim and shows its weakness. */
@Execution(ExecutionMode.CONCURRENT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TourTest {

    private static FaultyKafka kafka;

    @BeforeAll
    static void start() { kafka = FaultyKafka.start(1); }

    @AfterAll
    static void stop() { kafka.close(); }

    @Test
    void tour_allSixRowsPass_exit0() {
        assertEverySemanticAsPromised(ScriptRunner.jbang(Duration.ofMinutes(4), "tour"));
    }

    /** The same tour on Java 25 (KIT_JAVA25_HOME): the same table, every JVM a Java 25, and no JVM warning in its output. */
    @Test
    void tour_onJava25_allSixRowsPass_withoutJvmWarnings() throws Exception {
        Java25.Jvms jvms = new Java25.Jvms();
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(4), Java25.env(), jvms, "tour");
        assertEverySemanticAsPromised(r);
        Java25.assertNoJvmNoise("./jbang tour sous Java 25", r);
        jvms.assertAllJava25("./jbang tour");
    }

    private static void assertEverySemanticAsPromised(ScriptRunner.Result r) {
        assertEquals(0, r.exitCode(), r.describe());
        for (Semantic s : Semantic.values()) {
            String row = row(r, s.french + " ");
            assertTrue(row.contains("✔"), "ligne de " + s.french + " : " + row + "\n" + r.describe());
        }
        // each pattern on its own row: a ✔ or a count of another row can't make it pass
        assertTrue(row(r, "producteur at-most-once ").matches("producteur at-most-once +requête perdue +10 +9 +1 +0 .*✔.*"), r.stdout());
        assertTrue(row(r, "producteur at-least-once ").matches("producteur at-least-once +réponse perdue +10 +1[1-9] +0 +[1-9] .*✔.*"), r.stdout());
        assertTrue(row(r, "producteur exactly-once ").matches("producteur exactly-once +réponse perdue +10 +10 +0 +0 .*✔.*"), r.stdout());
        assertTrue(row(r, "consommateur at-most-once ").matches("consommateur at-most-once +crash au message 5 \\+ relance +10 +9 +1 +0 .*✔.*"), r.stdout());
        assertTrue(row(r, "consommateur at-least-once ").matches("consommateur at-least-once +crash au message 5 \\+ relance +10 +11 +0 +1 .*✔.*"), r.stdout());
        assertTrue(row(r, "consommateur exactly-once ").matches("consommateur exactly-once +crash au message 5 \\+ relance +10 +10 +0 +0 .*✔.*"), r.stdout());
        // where exactly-once ends: relaunched from its start after a commit, the EOS producer writes its 1st batch (5) again;
        // expected, and DedupConsumer downstream (by message id) has one effect per message
        assertTrue(row(r, "producteur EOS relancé ").matches("producteur EOS relancé +crash après commit \\+ relance +10 +15 +0 +5 +aucune perte +✔ .*"), r.stdout());
        assertTrue(r.stdout().contains("DedupConsumer sur ce topic → 10 effets, un par message."), r.stdout());
    }

    /** The one line of the tour's table that starts with {@code start}. */
    private static String row(ScriptRunner.Result r, String start) {
        List<String> rows = r.stdout().lines().filter(l -> l.startsWith(start)).toList();
        assertEquals(1, rows.size(), "une seule ligne commence par « " + start + " » :\n" + r.stdout());
        return rows.get(0);
    }

    @Test
    void leaderFailure_onThreeNodes_acksAllLosesNothing() {
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(4), "tour", "--scenario", "leader-failure");
        assertEquals(0, r.exitCode(), r.describe());
        // acks=all + min.insync.replicas=2: 40 sent, 0 lost; acks=0 may lose but never duplicates
        assertTrue(row(r, "producteur at-least-once ").matches("producteur at-least-once +leader arrêté \\(3 nœuds\\) +40 +\\d+ +0 +\\d+ .*✔.*"), r.describe());
        assertTrue(row(r, "producteur at-most-once ").matches("producteur at-most-once +leader arrêté \\(3 nœuds\\) +40 +\\d+ +\\d+ +0 .*✔.*"), r.describe());
        assertTrue(row(r, "producteur exactly-once ").matches("producteur exactly-once +leader arrêté \\(3 nœuds\\) +40 +40 +0 +0 .*✔.*"), r.describe());
    }

    @Test
    void brokerRestart_inTheMiddleOfAtLeastOnceAndExactlyOnceProducers_losesNothing() {
        Scenarios scenarios = new Scenarios(kafka);
        for (Semantic s : List.of(Semantic.PRODUCER_AT_LEAST_ONCE, Semantic.PRODUCER_EXACTLY_ONCE)) {
            Scenarios.Result r = scenarios.nodeFailure(s, Scenarios.script(s), true);
            String why = s.french + " : " + r.observed() + "\n" + r.runs().get(0).describe();
            assertEquals(null, r.problem(), why);
            assertEquals(40, r.sent(), why);
            assertEquals(40, r.report().expected(), "tous les envois doivent finir acquittés (aucun échec annoncé) — " + why);
            assertEquals(0, r.report().lost(), why);
            if (s == Semantic.PRODUCER_EXACTLY_ONCE) assertEquals(0, r.report().duplicated(), why);
        }
    }

    /** Kafka's transactions test on one machine: one seed, both copies (2→3 partitions, then 1→1 in order). */
    @Test
    void eosBounce_copierUnderBouncesKillsAndLostTransactionRequests_outputEqualsInput() {
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(12), "tour", "--scenario", "eos-bounce", "--seed", "7");
        assertEquals(0, r.exitCode(), r.describe());
        List<String> counts = r.stdout().lines().filter(l -> l.startsWith("  entrée ") && l.contains("sortie read_committed")).toList();
        assertEquals(2, counts.size(), r.stdout());
        assertTrue(counts.get(0).startsWith("  entrée 20000, sortie read_committed 20000 : perdus 0, doublons 0, lus d'une transaction avortée 0, "
                + "transactions à moitié visibles 0 ; lecteur concurrent : 20000 distincts, 0 doublon(s) ; offsets du groupe = fin de "
                + "l'entrée : oui ; aucune transaction pendante : oui"), r.stdout());
        assertTrue(counts.get(1).startsWith("  entrée 10000, sortie read_committed 10000 : perdus 0, doublons 0, lus d'une transaction avortée 0, "
                + "transactions à moitié visibles 0 ; lecteur concurrent : 10000 distincts, 0 doublon(s) ; offsets du groupe = fin de "
                + "l'entrée : oui ; aucune transaction pendante : oui ; ordre gardé : oui"), r.stdout());
        // the producer: nothing committed lost, nothing aborted visible
        List<String> producer = r.stdout().lines().filter(l -> l.startsWith("  validés ")).toList();
        assertEquals(1, producer.size(), r.stdout());
        assertTrue(producer.get(0).matches("  validés \\d+, lus read_committed \\d+ : perdus 0, doublons 0, avortés visibles 0 ; "
                + "lecteur concurrent : 0 doublon\\(s\\) ; aucune transaction pendante : oui.*"), r.stdout());
        // the faults really happened: 3 bounces in each of the three runs, 3 kills of each copier, the lost transaction requests
        assertEquals(9, r.stdout().lines().filter(l -> l.contains("arrêté brutalement puis redémarré")).count(), r.stdout());
        assertEquals(6, r.stdout().lines().filter(l -> l.contains("copieur tué à")).count(), r.stdout());
        assertEquals(5, r.stdout().lines().filter(l -> l.contains("perdue (a eu lieu)")).count(), r.stdout());
    }

    /**
     * The lab survives its nodes' restarts: 8 hard stops and restarts in turn (each node at least twice) under acks=all
     * writes, no death, nothing acknowledged lost. The long campaign (200 cycles, README) is run by hand.
     */
    @Test
    void labBounces_eightNodeRestarts_noLabDeath_noAcknowledgedRecordLost() {
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(10), "tour", "--scenario", "lab-bounces", "--cycles", "8");
        assertEquals(0, r.exitCode(), r.describe());
        assertEquals(List.of("cycles=8 morts=0 perdus=0"), r.stdout().lines().filter(l -> l.startsWith("cycles=")).toList(), r.describe());
        // every cycle stopped a node, saw it leave and come back to the ISR, and the reader had every acknowledged record
        assertEquals(8, r.stdout().lines().filter(l -> l.matches("  cycle \\d+/8 : nœud [123] arrêté, .* tous lus .*")).count(), r.describe());
        assertTrue(r.stdout().contains("0 perdus, 0 doublons"), r.describe());
    }

    /**
     * The EOS consumer's abort-and-rewind path: its TxnOffsetCommit requests are lost for 12 s (longer than max.block.ms),
     * so sendOffsetsToTransaction times out; the script must abort, go back to the committed offsets and copy the batch
     * again, in the same run. Without the rewind the batch is skipped: lost.
     */
    @Test
    void exactlyOnceConsumer_abortableError_abortsRewindsAndCopiesTheBatchAgain() {
        String id = java.util.UUID.randomUUID().toString().substring(0, 8);
        String in = "rewind-" + id;
        String out = in + "-sortie";
        Topics.create(kafka.bootstrapServers(), in);
        Topics.create(kafka.bootstrapServers(), out);
        List<String> input = java.util.stream.IntStream.rangeClosed(1, 20).mapToObj(i -> id + "-" + i).toList();
        Topics.fill(kafka.bootstrapServers(), in, input);
        kafka.faults().add(FaultPlan.Kind.LOSE_REQUEST, org.apache.kafka.common.protocol.ApiKeys.TXN_OFFSET_COMMIT, 1, null, 12_000);
        ScriptRunner.Result run;
        try {
            run = new Scenarios(kafka).launch(Scenarios.script(Semantic.CONSUMER_EXACTLY_ONCE), List.of("-b", kafka.bootstrapServers(),
                    "-t", in, "-g", "g-" + id, "--output-topic", out, "--transactional-id", "tx-" + id, "--idle-ms", "3000"));
        } finally {
            kafka.faults().clear();
        }
        assertEquals(0, run.exitCode(), run.describe());
        assertTrue(run.stdout().contains("AVORTÉE"), "la transaction doit avoir été avortée : " + run.describe());
        Checker.Report report = Checker.checkProcessing(input, Topics.readValues(kafka.bootstrapServers(), out, true).stream()
                .map(Checker.ReadValue::value).toList());
        assertEquals(0, report.lost(), "le lot avorté doit être relu (rewindToCommitted) : " + report.describe() + "\n" + run.describe());
        assertEquals(0, report.duplicated(), report.describe());
    }

    /**
     * Where exactly-once ends, on the class's broker (the tour's row, the one run for both): killed right after its 1st
     * commit and relaunched from its start, the EOS producer writes its 1st batch again; DedupConsumer has one effect per
     * message. And the epochs the lab's trace shows on the way (transactions v2, Kafka 4's default): each EndTxn gives
     * back the epoch + 1, and the relaunch's InitProducerId a higher epoch still, which is what fences an old instance.
     */
    @Test
    void exactlyOnceProducer_relaunchedAfterACommit_resendsItsBatch_andTheEpochClimbsAtEachCommitAndInit() {
        long from = kafka.trace().next();
        Scenarios.Result r = new Scenarios(kafka).producerRelaunch(Scenarios.script(Semantic.PRODUCER_EXACTLY_ONCE), Scenarios.dedupConsumer());
        String why = r.observed() + "\n" + r.explanation() + "\n" + r.runs().stream().map(ScriptRunner.Result::describe).toList();
        assertEquals(null, r.problem(), why);
        assertEquals(0, r.report().lost(), why);
        assertEquals(5, r.report().duplicated(), "le 1er lot (5 messages) renvoyé par la relance : " + why);
        assertTrue(r.passed(), why);
        assertTrue(r.explanation().endsWith("→ 10 effets, un par message."), why);
        String tx = "tx-" + r.report().duplicatedValues().get(0).replaceAll("-\\d+$", "");
        List<TraceEntry> trace = kafka.trace().since(from, true);
        List<String> labels = trace.stream()
                .filter(e -> e.transactionalId() != null && e.transactionalId().startsWith(tx + " ")
                        && List.of("InitProducerId", "EndTxn").contains(e.api())).map(e -> e.transactionalId()).toList();
        // « tx → pid=P ép=E » for InitProducerId; « tx (commit, ép=A → B) » for EndTxn
        Pattern init = Pattern.compile(Pattern.quote(tx) + " → pid=\\d+ ép=(\\d+)");
        Pattern end = Pattern.compile(Pattern.quote(tx) + " \\(commit, ép=(\\d+) → (\\d+)\\)");
        assertEquals(5, labels.size(), "deux InitProducerId, trois EndTxn (1 avant le crash, 2 après) : " + labels);
        int epoch = -1;
        int inits = 0;
        Set<Integer> given = new TreeSet<>();
        for (String label : labels) {
            Matcher i = init.matcher(label);
            Matcher e = end.matcher(label);
            if (i.matches()) {
                assertTrue(Integer.parseInt(i.group(1)) > epoch, "la relance reçoit une époque plus haute : " + labels);
                epoch = Integer.parseInt(i.group(1));
                inits++;
            } else {
                assertTrue(e.matches(), "EndTxn porte son époque et celle que rend le coordinateur : " + label + " dans " + labels);
                assertEquals(epoch, Integer.parseInt(e.group(1)), labels.toString());
                assertEquals(epoch + 1, Integer.parseInt(e.group(2)), "chaque commit augmente l'époque (transactions v2) : " + labels);
                epoch++;
            }
            given.add(epoch);
        }
        assertEquals(2, inits, labels.toString());
        // each transaction's Produce batches carry the epoch the coordinator gave last: three transactions, three epochs
        Set<Integer> produced = new TreeSet<>();
        trace.stream().filter(e -> "Produce".equals(e.api()) && ("producer-" + tx).equals(e.clientId()))
                .forEach(e -> e.partitions().forEach(x -> produced.add((int) x.producerEpoch())));
        assertEquals(3, produced.size(), "époques des lots : " + produced + ", rendues : " + given + " ; " + labels);
        assertTrue(given.containsAll(produced), "époques des lots : " + produced + ", rendues : " + given + " ; " + labels);
    }

    @Test
    void tour_unknownScenario_isAUsageError() {
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(2), "tour", "--scenario", "n-importe-quoi");
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("scénario inconnu"), r.describe());
    }

    @Test
    void atLeastOnceConsumer_withCommitMovedBeforeProcessing_failsItsScenario() throws Exception {
        Path dir = Files.createTempDirectory("mauvais-");
        Path wrong = dir.resolve("ConsumerAtLeastOnce.java");
        String original = Files.readString(Scenarios.script(Semantic.CONSUMER_AT_LEAST_ONCE));
        // the classic mistake: commit first, then process (an at-most-once consumer in disguise); the crash point
        // stays between the two steps, now after the commit
        int from = original.indexOf("                    // 1) traitement\n");
        int to = original.indexOf("                    committed++;\n", from) + "                    committed++;\n".length();
        String swapped = original.substring(0, from)
                + "                    consumer.commitSync(next);\n                    committed++;\n"
                + "                    if (processed + 1 == crashAfter) Plumbing.crash(\"après le commit de l'offset \" + msg.offset() + \", avant son traitement\");\n"
                + "                    System.out.printf(\"[%s p%d@%d] %s%n\", msg.topic(), msg.partition(), msg.offset(), msg.value());\n"
                + "                    processed++;\n"
                + original.substring(to);
        assertFalse(swapped.equals(original), "la mutation doit avoir modifié le script");
        Files.writeString(wrong, swapped);
        Scenarios.Result r = new Scenarios(kafka).run(Semantic.CONSUMER_AT_LEAST_ONCE, wrong);
        // the crash now comes after the commit: the message is never processed nor redelivered, the guarantee is gone;
        // and it is the behaviour that fails, not the run (a script that doesn't build or crashes elsewhere proves nothing)
        assertEquals(null, r.problem(), r.observed());
        assertTrue(r.report().lost() > 0, r.observed());
        assertFalse(r.passed(), r.observed());
        assertFalse(r.showsWeakness(), r.observed());
        assertEquals(0, r.report().duplicated(), r.observed());
        Folders.deleteRecursively(dir);
    }

    /**
     * Randomized trials, per semantic; counts are configurable, small by default for CI. The full run:
     * {@code mvn -B test -Dtest='TourTest#randomizedTrials*' -Dkit.trials.consumer=50 -Dkit.trials.producer=20} (≈ 16 min here).
     */
    @Test
    void randomizedTrials_noSemanticViolatesItsClaim() {
        java.util.Random random = new java.util.Random(Long.getLong("kit.trials.seed", 7));
        Scenarios scenarios = new Scenarios(kafka);
        int consumerTrials = Integer.getInteger("kit.trials.consumer", 2);
        int producerTrials = Integer.getInteger("kit.trials.producer", 3);
        for (Semantic s : Semantic.values()) {
            int n = s.producer() ? producerTrials : consumerTrials;
            for (int t = 0; t < n; t++) {
                int position = 1 + random.nextInt(9);
                Scenarios.Result r = s.producer()
                        ? scenarios.producer(s, Scenarios.script(s), random.nextBoolean() ? FaultPlan.Fault.LOSE_REQUEST : FaultPlan.Fault.LOSE_RESPONSE, position)
                        : scenarios.consumer(s, Scenarios.script(s), position);
                String what = s.french + " (position " + position + ")";
                // a run that went wrong (no build, a crash elsewhere) would count nothing and keep every guarantee
                assertTrue(r.problem() == null || r.problem().startsWith("panne non injectée"), what + " : " + r.observed());
                assertEquals(10, s.producer() ? r.sent() : r.report().expected(), what + " : " + r.observed());
                assertTrue(r.keepsGuarantee(), what + " viole « " + s.claim + " » : " + r.observed());
            }
        }
    }
}
