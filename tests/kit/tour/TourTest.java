package kit.tour;

import kit.util.Folders;
import kit.faults.FaultPlan;
import kit.faults.FaultyKafka;
import kit.run.ScriptRunner;
import kit.scenarios.Scenarios;
import kit.semantics.Semantic;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tour as a user runs it, and the scenarios it is made of: each semantic keeps its claim and shows its weakness. */
class TourTest {

    private static FaultyKafka kafka;

    @BeforeAll
    static void start() { kafka = FaultyKafka.start(1); }

    @AfterAll
    static void stop() { kafka.close(); }

    @Test
    void tour_allSixRowsPass_exit0() {
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(4), "tour");
        assertEquals(0, r.exitCode(), r.describe());
        for (Semantic s : Semantic.values()) {
            String row = r.stdout().lines().filter(l -> l.startsWith(s.french + " ")).findFirst().orElse("");
            assertTrue(row.contains("✔"), "ligne de " + s.french + " : " + row + "\n" + r.describe());
        }
        assertTrue(r.stdout().matches("(?s).*producteur at-most-once +requête perdue +10 +9 +1 +0 .*"), r.stdout());
        assertTrue(r.stdout().matches("(?s).*consommateur at-least-once +crash au message 5 \\+ relance +10 +11 +0 +1 .*"), r.stdout());
    }

    @Test
    void leaderFailure_onThreeNodes_acksAllLosesNothing() {
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofMinutes(4), "tour", "--scenario", "leader-failure");
        assertEquals(0, r.exitCode(), r.describe());
        // acks=all + min.insync.replicas=2: 40 sent, 0 lost; acks=0 may lose but never duplicates
        assertTrue(r.stdout().matches("(?s).*producteur at-least-once +leader arrêté \\(3 nœuds\\) +40 +\\d+ +0 +\\d+ .*✔.*"), r.describe());
        assertTrue(r.stdout().matches("(?s).*producteur at-most-once +leader arrêté \\(3 nœuds\\) +40 +\\d+ +\\d+ +0 .*✔.*"), r.describe());
        assertTrue(r.stdout().matches("(?s).*producteur exactly-once +leader arrêté \\(3 nœuds\\) +40 +40 +0 +0 .*✔.*"), r.describe());
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
        // the classic mistake: commit first, then process (an at-most-once consumer in disguise)
        String swapped = original.replace("                    consumer.commitSync(next);\n                    committed++;\n", "")
                .replace("                    // 1) traitement\n", "                    consumer.commitSync(next);\n                    committed++;\n");
        assertFalse(swapped.equals(original), "la mutation doit avoir modifié le script");
        Files.writeString(wrong, swapped);
        Scenarios.Result r = new Scenarios(kafka).run(Semantic.CONSUMER_AT_LEAST_ONCE, wrong);
        // the crash now comes after the commit: the message is never redelivered, the at-least-once behaviour is gone
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
        int consumerTrials = Integer.getInteger("kit.trials.consumer", 3);
        int producerTrials = Integer.getInteger("kit.trials.producer", 5);
        for (Semantic s : Semantic.values()) {
            int n = s.producer() ? producerTrials : consumerTrials;
            for (int t = 0; t < n; t++) {
                int position = 1 + random.nextInt(9);
                Scenarios.Result r = s.producer()
                        ? scenarios.producer(s, Scenarios.script(s), random.nextBoolean() ? FaultPlan.Fault.LOSE_REQUEST : FaultPlan.Fault.LOSE_RESPONSE, position)
                        : scenarios.consumer(s, Scenarios.script(s), position);
                assertTrue(r.keepsGuarantee(), s.french + " (position " + position + ") viole « " + s.claim + " » : " + r.observed());
            }
        }
    }
}
