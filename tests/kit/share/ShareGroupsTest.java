package kit.share;

import kit.faults.FaultPlan;
import kit.faults.FaultyKafka;
import kit.faults.TraceEntry;
import kit.faults.TraceEntry.ShareRange;
import kit.lab.TraceDiagram;
import kit.run.ScriptRunner;
import kit.run.Topics;
import kit.scenarios.ShareLessons;
import kit.scenarios.ShareLessons.Delivery;
import kit.scenarios.ShareLessons.Lesson;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FeatureUpdate;
import org.apache.kafka.clients.admin.UpdateFeaturesOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Share groups (KIP-932): scripts/ShareConsumer.java run as its own process, as the tour's `file` scenario runs it
 * (the same {@link ShareLessons}), on a broker with the fault proxy in front; each lesson's counts asserted.
 */
@Execution(ExecutionMode.CONCURRENT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShareGroupsTest {

    private static FaultyKafka kafka;
    private static ShareLessons lessons;

    @BeforeAll
    static void start() {
        kafka = FaultyKafka.start(1);
        lessons = new ShareLessons(kafka);
    }

    @AfterAll
    static void stop() { kafka.close(); }

    @Test
    void twoMembers_onOnePartition_bothReceive_noneLostNoneTwice() {
        Lesson l = lessons.twoMembersOnePartition();
        assertTrue(l.passed(), l.toString());
        assertEquals(20, l.received(), l.toString());
        assertEquals(0, l.lost(), l.toString());
        assertEquals(0, l.effectsTwice(), l.toString());
    }

    @Test
    void crashBeforeAcknowledging_theBatchComesBackWithDeliveryCount2_effectsTwice_noLoss_andTheTraceShowsIt() {
        long mark = kafka.trace().next();
        Lesson l = lessons.crashBeforeAcknowledging();
        assertTrue(l.passed(), l.toString());
        assertEquals(0, l.lost(), l.toString());
        assertEquals(3, l.effectsTwice(), "les 3 messages traités avant le crash le sont deux fois : " + l);
        assertEquals(8, l.redelivered(), "tout le lot acquis revient : " + l);

        // the lab's trace: ShareFetch responses lend offsets 0-7 twice, delivery count 1 then 2; the ACCEPTs are sent
        List<TraceEntry> entries = kafka.trace().since(mark, true);
        List<ShareRange> ranges = entries.stream().filter(e -> e.share() != null).flatMap(e -> e.share().stream())
                .filter(r -> r.topic().startsWith("file-crash-")).toList();
        for (int count : List.of(1, 2)) {
            Set<Long> lent = new TreeSet<>();
            ranges.stream().filter(r -> r.acquired() && r.deliveryCount() == count)
                    .forEach(r -> LongStream.rangeClosed(r.firstOffset(), r.lastOffset()).forEach(lent::add));
            assertEquals(LongStream.range(0, 8).boxed().toList(), List.copyOf(lent), "acquis en livraison " + count + " : " + ranges);
        }
        Set<Long> accepted = new TreeSet<>();
        ranges.stream().filter(r -> r.kind().equals("ACCEPT"))
                .forEach(r -> LongStream.rangeClosed(r.firstOffset(), r.lastOffset()).forEach(accepted::add));
        assertEquals(LongStream.range(0, 8).boxed().toList(), List.copyOf(accepted), "acquittés ACCEPT : " + ranges);
        String svg = TraceDiagram.svg(entries.stream().filter(e -> e.api().startsWith("Share")).toList(), "file", 400);
        assertTrue(svg.contains("(livraison 2)") && svg.contains("ACCEPT 0"), svg);
    }

    @Test
    void lostAcknowledgeRequest_recordsComeBack_lostResponse_theyDoNot_theClientCannotTell() {
        Lesson request = lessons.lostAcknowledgement(FaultPlan.Kind.LOSE_REQUEST);
        assertTrue(request.passed(), request.toString());
        assertEquals(4, request.redelivered(), request.toString());
        assertEquals(0, request.lost(), request.toString());
        Lesson response = lessons.lostAcknowledgement(FaultPlan.Kind.LOSE_RESPONSE);
        assertTrue(response.passed(), response.toString());
        assertEquals(0, response.redelivered(), response.toString());
        assertEquals(0, response.lost(), response.toString());
    }

    @Test
    void poisonRecords_rejectedOnce_failingOnesReleasedUntilTheLimit_bothInTheDeadLetterTopic() {
        long mark = kafka.trace().next();
        Lesson l = lessons.poison();
        assertTrue(l.passed(), l.toString());
        // one acknowledgement batch, one type per offset on the wire, read back as ranges: ACCEPT 0–1, RELEASE 2, ACCEPT 3, REJECT 4
        List<ShareRange> acks = kafka.trace().since(mark, true).stream().filter(e -> e.share() != null).flatMap(e -> e.share().stream())
                .filter(r -> r.topic().startsWith("file-poison-") && !r.acquired()).toList();
        assertTrue(acks.contains(new ShareRange(acks.isEmpty() ? "" : acks.get(0).topic(), 0, 4, 4, "REJECT", -1))
                && acks.stream().anyMatch(r -> r.kind().equals("RELEASE") && r.firstOffset() == 2 && r.lastOffset() == 2), acks.toString());
        assertTrue(l.observed().contains("lettres mortes : [" + l.deliveries().get(0).value().replaceAll("-\\d+$", "") + "-3, "), l.toString());
        assertEquals(5 + 2, l.received(), "5 messages, dont un relivré deux fois avant son archivage : " + l);
        assertEquals(List.of("REJECT"), l.deliveries().stream().filter(d -> d.value().endsWith("-5")).map(Delivery::ack).toList());
    }

    @Test
    void implicitMode_acceptsAFailedRecordAnyway() {
        Lesson l = lessons.implicitMode();
        assertTrue(l.passed(), l.toString());
        assertEquals(0, l.redelivered(), l.toString());
    }

    @Test
    void aNewGroup_withKafkasDefaultLatest_skipsWhatIsThere_earliestReadsIt() {
        Lesson l = lessons.newGroupLatest();
        assertTrue(l.passed(), l.toString());
        assertEquals(3, l.received(), l.toString());
    }

    @Test
    void aDeadLetterTopicWithoutItsTopicConfig_isRefusedInFrench_theBrokerWouldArchiveSilently() {
        String topic = "file-dlq-" + System.nanoTime();
        Topics.create(kafka.bootstrapServers(), topic);
        Topics.create(kafka.bootstrapServers(), "dlq." + topic);
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofSeconds(90), "scripts/ShareConsumer.java", "-b", kafka.bootstrapServers(),
                "-t", topic, "-g", "sg-" + topic, "--dead-letter-topic", "dlq." + topic);
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("n'accepte pas les lettres mortes (errors.deadletterqueue.group.enable=false)"), r.stderr());
    }

    @Test
    void badInput_anUnknownOffsetReset_isAUsageError() {
        ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofSeconds(90), "scripts/ShareConsumer.java", "-b", kafka.bootstrapServers(),
                "--offset-reset", "demain");
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("--offset-reset vaut earliest ou latest"), r.stderr());
    }

    @Test
    void aClusterWithoutShareGroups_getsAFrenchMessageSayingHowToEnableThem_exit1() throws Exception {
        String topic = "file-off-" + System.nanoTime();
        Topics.create(kafka.bootstrapServers(), topic);
        Topics.fill(kafka.bootstrapServers(), topic, List.of("v-1"));
        try (Admin admin = Admin.create(Topics.adminProps(kafka.bootstrapServers()))) {
            short before = admin.describeFeatures().featureMetadata().get().finalizedFeatures().get("share.version").maxVersionLevel();
            setShareVersion(admin, (short) 0, FeatureUpdate.UpgradeType.SAFE_DOWNGRADE);
            try {
                ScriptRunner.Result r = ScriptRunner.jbang(Duration.ofSeconds(90), "scripts/ShareConsumer.java", "-b",
                        kafka.bootstrapServers(), "-t", topic, "-g", "sg-" + topic, "--idle-ms", "2000");
                assertEquals(1, r.exitCode(), r.describe());
                assertTrue(r.stderr().contains("n'a pas les groupes de partage") && r.stderr().contains("upgrade --feature share.version=1"),
                        r.stderr());
                assertEquals(List.of(), ShareLessons.deliveries(r));
            } finally {
                setShareVersion(admin, before, FeatureUpdate.UpgradeType.UPGRADE);
            }
        }
    }

    private static void setShareVersion(Admin admin, short level, FeatureUpdate.UpgradeType type) throws Exception {
        admin.updateFeatures(Map.of("share.version", new FeatureUpdate(level, type)), new UpdateFeaturesOptions()).all().get(30, TimeUnit.SECONDS);
    }
}
