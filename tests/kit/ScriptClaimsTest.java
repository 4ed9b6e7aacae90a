package kit;

import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.semantics.Checker;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static kit.ScriptsTest.consumer;
import static kit.ScriptsTest.fill;
import static kit.ScriptsTest.script;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the scripts and their --config warnings say about auto-commit, acks and read_committed, shown on the shared
 * broker with the scripts run as a student runs them (./jbang scripts/X.java).
 */
class ScriptClaimsTest {

    /**
     * The Java consumer auto-commits inside poll() and close(), for records poll() already returned: a crash re-reads
     * (duplicates, nothing skipped); close() after half a batch commits the whole batch, and the rest is lost.
     */
    @Test
    void javaAutoCommit_crashRereads_closeAfterHalfABatchCommitsTheRest() throws Exception {
        String topic = KafkaFixture.newTopic("autocommit");
        List<String> input = fill(topic, 10);
        String group = "g-" + topic;
        Path config = properties("enable.auto.commit=true\n");
        // --instance-id: a static member, which takes its partition back at once after the crash
        ScriptRunner.Result crashed = consumer("ConsumerAtLeastOnce", topic, group, "--config", config.toString(),
                "--instance-id", "moi", "--crash-after", "5");
        assertEquals(137, crashed.exitCode(), crashed.describe());
        String warning = crashed.stderr();
        assertTrue(warning.contains("Attention : --config change enable.auto.commit de « false » en « true » : le client Java valide "
                + "lui-même, dans poll()"), crashed.describe());
        assertTrue(warning.contains("(doublons, at-least-once)") && warning.contains("la perte vient d'un close() après un lot à moitié traité")
                && warning.contains("librdkafka (le client Python du cours) valide, lui, en tâche de fond"), crashed.describe());
        ScriptRunner.Result rerun = consumer("ConsumerAtLeastOnce", topic, group, "--config", config.toString(),
                "--instance-id", "moi", "--max", "3");
        Files.deleteIfExists(config);
        assertEquals(0, rerun.exitCode(), rerun.describe());
        // the crash: the crashed record is read again, nothing before or after it skipped (5, 6, 7)
        List<String> processed = new ArrayList<>(crashed.output().values());
        processed.addAll(rerun.output().values());
        Checker.Report report = Checker.checkProcessing(input.subList(0, 7), processed);
        assertEquals(0, report.lost(), report.describe());
        assertEquals(1, report.duplicated(), report.describe());
        // close() after 3 records of the batch: the group's offset is past the 3 records never processed
        assertEquals(10, Topics.committedOffset(KafkaFixture.bootstrap(), group, topic),
                "close() valide tout le lot rendu par poll() : 8, 9 et 10 ne seront jamais lus par ce groupe");
    }

    /**
     * A send the broker refuses: the at-least-once summary counts it as lost, in words; acks=0 never learns of it (acked,
     * yet not in the topic), and retries do nothing for it. The acks=all and retries warnings say what they rest on.
     */
    @Test
    void refusedSends_atLeastOnceCountsThemLost_acks0NeverKnows_warningsOnAcksAndRetries() throws Exception {
        String topic = "refus-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        // max.message.bytes=1: the broker refuses every batch (RecordTooLargeException, not retriable). One record per
        // run: a refused batch of two is split by batch.size, not by the topic's limit, and sent again until delivery.timeout.ms
        try (Admin admin = Admin.create(Topics.adminProps(KafkaFixture.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("max.message.bytes", "1"))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        Path toAll = properties("acks=all\nretries=5\n");
        Path toZero = properties("acks=0\nretries=0\n");
        var atLeastOnce = CompletableFuture.supplyAsync(() -> script("ProducerAtLeastOnce", "-t", topic, "--count", "1", "--run-id", "alo"));
        var atMostOnceAll = CompletableFuture.supplyAsync(() -> script("ProducerAtMostOnce", "-t", topic, "--count", "1", "--run-id", "all",
                "--config", toAll.toString()));
        // after the first: two launches of a script not built yet would both build its jar at once
        var atLeastOnceZero = atLeastOnce.thenApplyAsync(first -> script("ProducerAtLeastOnce", "-t", topic, "--count", "1", "--run-id", "zero",
                "--config", toZero.toString()));

        ScriptRunner.Result alo = atLeastOnce.join();
        assertEquals(0, alo.exitCode(), alo.describe());
        assertEquals(0, alo.output().summaryInt("acked"), alo.describe());
        assertEquals(1, alo.output().summaryInt("failed"), alo.describe());
        assertTrue(alo.stdout().contains("(perdu : personne ne le renverra)"), alo.describe());
        assertTrue(alo.stdout().contains("en échec, donc perdus : 1"), "le résumé dit que les envois en échec sont perdus : " + alo.describe());

        ScriptRunner.Result all = atMostOnceAll.join();
        assertEquals(0, all.exitCode(), all.describe());
        assertEquals(1, all.output().summaryInt("failed"), all.describe());
        assertTrue(all.stderr().contains("Attention : --config change acks de « 0 » en « all » : le leader confirme quand les réplicas "
                + "synchronisés (ISR) ont le message, pas tous les réplicas"), all.describe());
        assertTrue(all.stderr().contains("avec min.insync.replicas=1 (défaut du broker) l'ISR peut se réduire au leader et acks=all ne vaut"
                + " pas mieux que acks=1, comme sur le lab à 1 nœud"), all.describe());
        assertTrue(all.stderr().contains("5 fois au plus et tant que delivery.timeout.ms (120000 ms) n'est pas écoulé : ce délai borne les essais quoi que vaille retries"),
                all.describe());

        ScriptRunner.Result zero = atLeastOnceZero.join();
        Files.deleteIfExists(toAll);
        Files.deleteIfExists(toZero);
        assertEquals(0, zero.exitCode(), zero.describe());
        assertEquals(1, zero.output().summaryInt("acked"), "acks=0 : « acquitté » dès l'envoi : " + zero.describe());
        assertEquals(0, zero.output().summaryInt("failed"), zero.describe());
        assertTrue(zero.stderr().contains("Attention : --config change retries de « 5 » en « 0 » : avec acks=0, retries ne change presque rien"),
                zero.describe());
        // refused all the same, without a word: nobody's record is in the topic
        assertEquals(List.of(), KafkaFixture.readValues(KafkaFixture.bootstrap(), topic, false));
    }

    /**
     * read_committed stops at the last stable offset: a transaction left open by a crash hides the plain records written
     * after it, until it is aborted (here by the initTransactions() of a producer relaunched with its transactional.id).
     */
    @Test
    void readCommitted_openTransaction_hidesLaterPlainRecords_untilItIsAborted() throws Exception {
        String topic = KafkaFixture.newTopic("lso");
        String txId = "tx-" + topic;
        // 60 s: the coordinator must not abort it while the reader below runs (the script's own is 10 s)
        Path longTransaction = properties("transaction.timeout.ms=60000\n");
        ScriptRunner.Result crashed = script("ProducerExactlyOnce", "-t", topic, "--count", "10", "--transaction-size", "5",
                "--crash-after", "7", "--run-id", "zombie", "--transactional-id", txId, "--config", longTransaction.toString());
        Files.deleteIfExists(longTransaction);
        assertEquals(137, crashed.exitCode(), crashed.describe());
        List<String> plain = IntStream.rangeClosed(1, 3).mapToObj(i -> "simple-" + i).toList();
        Topics.fill(KafkaFixture.bootstrap(), topic, plain);

        Path readCommitted = properties("isolation.level=read_committed\n");
        ScriptRunner.Result reader = consumer("ConsumerAtLeastOnce", topic, "g-" + topic, "--config", readCommitted.toString());
        Files.deleteIfExists(readCommitted);
        assertEquals(0, reader.exitCode(), reader.describe());
        assertTrue(reader.stderr().contains("la lecture s'arrête au dernier offset stable (LSO)")
                && reader.stderr().contains("une transaction ouverte bloque tout ce qui la suit dans la partition, messages non "
                + "transactionnels compris"), reader.describe());
        List<String> before = reader.output().values();
        assertEquals(List.of("zombie-1", "zombie-2", "zombie-3", "zombie-4", "zombie-5"), before,
                "la transaction ouverte cache les messages simples écrits après elle : " + reader.describe());

        // a relaunch's initTransactions() aborts the open transaction: the plain records become readable, the zombie's never
        Properties relaunch = KafkaFixture.producerProps(KafkaFixture.bootstrap(), "all");
        relaunch.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txId);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(relaunch)) {
            producer.initTransactions();
        }
        List<String> after = KafkaFixture.readValues(KafkaFixture.bootstrap(), topic, true);
        List<String> expected = new ArrayList<>(before);
        expected.addAll(plain);
        assertEquals(expected, after);
        assertFalse(after.contains("zombie-6") || after.contains("zombie-7"), after.toString());
    }

    private static Path properties(String text) throws java.io.IOException {
        Path file = Files.createTempFile("client", ".properties");
        Files.writeString(file, text);
        return file;
    }
}
