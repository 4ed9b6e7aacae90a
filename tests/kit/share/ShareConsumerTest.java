package kit.share;

import kit.KafkaFixture;
import kit.run.ScriptRunner;
import kit.run.Topics;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FeatureUpdate;
import org.apache.kafka.clients.admin.UpdateFeaturesOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * scripts/ShareConsumer.java (KIP-932 share groups) run as a student runs it, through ./jbang, on the real broker:
 * a queue's guarantee is at-least-once per record with a bounded number of deliveries, counted here.
 */
class ShareConsumerTest {

    private static final Duration RUN_LIMIT = Duration.ofSeconds(90);
    /** {@code [topic pN@offset] value (livraison K, ACK)}: the share consumer's record line (docs/CONTRAT.md). */
    private static final Pattern DELIVERY = Pattern.compile("^\\[\\S+ p\\d+@\\d+\\] (\\S+) \\(livraison (\\d+), ([A-Z]+)\\)$", Pattern.MULTILINE);

    private record Delivery(String value, int count, String ack) { }

    @Test
    void twoShareConsumers_onOnePartition_bothReceiveRecords_noneLostNoneTwice() throws Exception {
        String topic = KafkaFixture.newTopic("file");
        List<String> input = fill(topic, 20);
        String group = "sg-" + topic;
        // two records per fetch, 150 ms each: the first consumer still works when the second one joins
        Path config = Files.createTempFile("share", ".properties");
        Files.writeString(config, "max.poll.records=2\nshare.acquire.mode=record_limit\n");
        // JBang builds the script once, before the two below start together
        assertEquals(0, ScriptRunner.jbang(RUN_LIMIT, "scripts/ShareConsumer.java", "--help").exitCode());
        var first = CompletableFuture.supplyAsync(() -> share(topic, group, "--slow-ms", "150", "--config", config.toString()));
        var second = CompletableFuture.supplyAsync(() -> share(topic, group, "--slow-ms", "150", "--config", config.toString()));
        ScriptRunner.Result a = first.get(2, TimeUnit.MINUTES);
        ScriptRunner.Result b = second.get(2, TimeUnit.MINUTES);
        assertEquals(0, a.exitCode(), a.describe());
        assertEquals(0, b.exitCode(), b.describe());
        List<Delivery> fromA = deliveries(a);
        List<Delivery> fromB = deliveries(b);
        assertTrue(!fromA.isEmpty() && !fromB.isEmpty(),
                "une file : les deux membres reçoivent des messages de l'unique partition : " + fromA.size() + " et " + fromB.size());
        List<String> all = new ArrayList<>(values(fromA));
        all.addAll(values(fromB));
        assertEquals(Set.copyOf(input), Set.copyOf(all), "perdu : rien");
        assertEquals(input.size(), all.size(), "aucun message livré deux fois sans panne");
    }

    @Test
    void crashBeforeAcknowledging_theBatchComesBackToTheOtherConsumer_withDeliveryCount2_noLoss() {
        String topic = KafkaFixture.newTopic("file-crash");
        List<String> input = fill(topic, 8);
        String group = "sg-" + topic;
        ScriptRunner.Result crashed = share(topic, group, "--lock-ms", "2000", "--crash-after", "3");
        assertEquals(137, crashed.exitCode(), crashed.describe());
        List<Delivery> before = deliveries(crashed);
        assertEquals(3, before.size(), crashed.describe());
        ScriptRunner.Result other = share(topic, group, "--lock-ms", "2000");
        assertEquals(0, other.exitCode(), other.describe());
        List<Delivery> after = deliveries(other);
        assertEquals(Set.copyOf(input), Set.copyOf(values(after)), "aucune perte : le lot non acquitté revient en entier");
        for (Delivery d : before) {
            Delivery again = after.stream().filter(x -> x.value().equals(d.value())).findFirst().orElseThrow();
            assertEquals(2, again.count(), "revenu après l'expiration du verrou, 2e livraison : " + again);
        }
        // the effect of the 3 records processed before the crash happens twice: at-least-once
        List<String> effects = new ArrayList<>(values(before));
        effects.addAll(values(after));
        assertEquals(input.size() + 3, effects.size(), "trois effets en double, aucun de perdu");
    }

    @Test
    void poisonRecords_rejectedOnce_orReleasedUntilArchivedAtTheDeliveryLimit() {
        String topic = KafkaFixture.newTopic("file-poison");
        List<String> input = fill(topic, 5);
        ScriptRunner.Result r = share(topic, "sg-" + topic, "--reject-if", input.get(4), "--fail-if", input.get(2),
                "--delivery-limit", "3");
        assertEquals(0, r.exitCode(), r.describe());
        List<Delivery> seen = deliveries(r);
        Map<String, List<Delivery>> byValue = new HashMap<>();
        for (Delivery d : seen) byValue.computeIfAbsent(d.value(), v -> new ArrayList<>()).add(d);
        assertEquals(List.of(new Delivery(input.get(4), 1, "REJECT")), byValue.get(input.get(4)), "rejeté : jamais relivré");
        assertEquals(List.of(1, 2, 3), byValue.get(input.get(2)).stream().map(Delivery::count).toList(),
                "rendu à chaque fois : relivré jusqu'à la limite (3), puis archivé : " + r.stdout());
        for (int i : new int[] {0, 1, 3}) {
            assertEquals(List.of(new Delivery(input.get(i), 1, "ACCEPT")), byValue.get(input.get(i)), r.stdout());
        }
    }

    @Test
    void aNewShareGroup_withKafkasDefaultLatest_skipsWhatIsAlreadyThere_earliestReadsIt() {
        String topic = KafkaFixture.newTopic("file-latest");
        List<String> input = fill(topic, 3);
        ScriptRunner.Result latest = share(topic, "sg-latest-" + topic, "--offset-reset", "latest");
        assertEquals(0, latest.exitCode(), latest.describe());
        assertEquals(List.of(), deliveries(latest), "latest : les messages déjà là sont sautés");
        assertTrue(latest.stdout().contains("share.auto.offset.reset=latest"), latest.stdout());
        ScriptRunner.Result earliest = share(topic, "sg-earliest-" + topic, "--offset-reset", "earliest");
        assertEquals(input, values(deliveries(earliest)), earliest.describe());
    }

    @Test
    void badInput_anUnknownOffsetReset_isAUsageError() {
        ScriptRunner.Result r = ScriptRunner.jbang(RUN_LIMIT, "scripts/ShareConsumer.java", "-b", KafkaFixture.bootstrap(),
                "--offset-reset", "demain");
        assertEquals(2, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("--offset-reset vaut earliest ou latest"), r.stderr());
    }

    /** Last: it turns share groups off on the class's broker for a moment, then back on. */
    @Test
    void aClusterWithoutShareGroups_getsAFrenchMessageSayingHowToEnableThem_exit1() throws Exception {
        String topic = KafkaFixture.newTopic("file-off");
        fill(topic, 1);
        try (Admin admin = Admin.create(Topics.adminProps(KafkaFixture.bootstrap()))) {
            short before = admin.describeFeatures().featureMetadata().get().finalizedFeatures().get("share.version").maxVersionLevel();
            setShareVersion(admin, (short) 0, FeatureUpdate.UpgradeType.SAFE_DOWNGRADE);
            try {
                ScriptRunner.Result r = share(topic, "sg-" + topic);
                assertEquals(1, r.exitCode(), r.describe());
                assertTrue(r.stderr().contains("n'a pas les groupes de partage") && r.stderr().contains("upgrade --feature share.version=1"),
                        r.stderr());
                assertEquals(List.of(), deliveries(r));
            } finally {
                setShareVersion(admin, before, FeatureUpdate.UpgradeType.UPGRADE);
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static void setShareVersion(Admin admin, short level, FeatureUpdate.UpgradeType type) throws Exception {
        admin.updateFeatures(Map.of("share.version", new FeatureUpdate(level, type)), new UpdateFeaturesOptions()).all().get(30, TimeUnit.SECONDS);
    }

    private static ScriptRunner.Result share(String topic, String group, String... more) {
        List<String> args = new ArrayList<>(List.of("scripts/ShareConsumer.java", "-b", KafkaFixture.bootstrap(), "-t", topic, "-g", group,
                "--idle-ms", "2500"));
        args.addAll(List.of(more));
        return ScriptRunner.jbang(RUN_LIMIT, args.toArray(String[]::new));
    }

    private static List<Delivery> deliveries(ScriptRunner.Result r) {
        List<Delivery> found = new ArrayList<>();
        Matcher m = DELIVERY.matcher(r.stdout());
        while (m.find()) found.add(new Delivery(m.group(1), Integer.parseInt(m.group(2)), m.group(3)));
        return found;
    }

    private static List<String> values(List<Delivery> deliveries) {
        return deliveries.stream().map(Delivery::value).toList();
    }

    private static List<String> fill(String topic, int n) {
        String run = topic.substring(topic.lastIndexOf('-') + 1);
        List<String> values = IntStream.rangeClosed(1, n).mapToObj(i -> run + "-" + i).toList();
        Topics.fill(KafkaFixture.bootstrap(), topic, values);
        return values;
    }
}
