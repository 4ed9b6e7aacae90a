// Le code de la leçon de durabilité (notebook 08), chargé par « %load durabilite.jsh » après shared.jsh :
// les réplicas d'un topic sur le labo de 3 nœuds, la réplication retenue, un leader arrêté (docs/LABO.md).
// Rien ici ne parle au broker ni au labo au chargement : seulement des définitions.

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringSerializer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;

class Durabilite {
    static final int RECORDS = 5;

    // ---- Le cluster -----------------------------------------------------------------------------------------

    /** La leçon demande 3 nœuds : un leader et deux followers. Affiche ce que le labo a réglé pour elle. */
    static void check() throws Exception {
        Admin admin = Kit.admin();
        int nodes = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
        if (nodes < 3) {
            throw new IllegalStateException("Cette leçon demande un labo de 3 nœuds (celui-ci en a " + nodes + ") : arrêtez-le (Ctrl-C) "
                    + "et relancez ./jbang broker --faults --brokers 3.");
        }
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
        Config c = admin.describeConfigs(List.of(broker)).all().get(10, TimeUnit.SECONDS).get(broker);
        FinalizedVersionRange elr = admin.describeFeatures().featureMetadata().get(10, TimeUnit.SECONDS)
                .finalizedFeatures().get("eligible.leader.replicas.version");
        System.out.println("3 nœuds. replica.lag.time.max.ms = " + c.get("replica.lag.time.max.ms").value()
                + " ; unclean.leader.election.enable = " + c.get("unclean.leader.election.enable").value()
                + " ; eligible.leader.replicas.version = " + (elr == null ? 0 : elr.maxVersionLevel()));
    }

    /** Un topic neuf à une partition et 3 réplicas, avec ce min.insync.replicas ; rend la main quand l'ISR a ses 3 nœuds. */
    static String newTopic(String prefix, int minIsr) throws Exception {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
        Kit.admin().createTopics(List.of(new NewTopic(name, 1, (short) 3).configs(Map.of("min.insync.replicas", String.valueOf(minIsr)))))
                .all().get(20, TimeUnit.SECONDS);
        Kit.OUR_TOPICS.add(name);
        awaitIsr(name, 3, Duration.ofSeconds(30));
        return name;
    }

    static TopicPartitionInfo partition(String topic) throws Exception {
        return Kit.admin().describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).partitions().get(0);
    }

    /** Le leader de la partition 0, ou -1 s'il n'y en a pas (partition hors ligne). */
    static int leader(String topic) throws Exception {
        Node l = partition(topic).leader();
        return l == null || l.id() < 0 ? -1 : l.id();
    }

    static List<Integer> isr(String topic) throws Exception {
        return partition(topic).isr().stream().map(Node::id).toList();
    }

    static void awaitIsr(String topic, int size, Duration timeout) throws Exception {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (true) {
            try {
                if (leader(topic) >= 0 && isr(topic).size() >= size) return;
            } catch (ExecutionException notYet) {
                // le topic n'est pas encore connu partout
            }
            if (System.currentTimeMillis() > deadline) throw new IllegalStateException("l'ISR de " + topic + " n'a pas " + size + " nœuds");
            Thread.sleep(200);
        }
    }

    /** Attend qu'un autre nœud que {@code old} mène la partition ; rend son numéro, ou -1 au bout du délai. */
    static int awaitNewLeader(String topic, int old, Duration timeout) throws Exception {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (System.currentTimeMillis() < deadline) {
            try {
                int l = leader(topic);
                if (l >= 0 && l != old) return l;
            } catch (ExecutionException notYet) {
                // les métadonnées changent de mains
            }
            Thread.sleep(200);
        }
        return -1;
    }

    /**
     * Ce que chaque nœud a de la partition 0 : sa fin de log (LEO, l'offset du prochain message qu'il écrira) et son high
     * watermark (jusqu'où les lecteurs peuvent lire), lus par le labo dans chaque nœud ; puis le leader et l'ISR.
     */
    static void show(String topic) throws Exception {
        HttpResponse<String> r = Kit.labCall("GET", "/api/replication?topic=" + topic, null);
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("\"id\":(\\d+),\"up\":(true|false),\"logEndOffset\":(null|\\d+),\"highWatermark\":(null|\\d+)").matcher(r.body());
        StringBuilder s = new StringBuilder();
        while (m.find()) {
            s.append("  nœud ").append(m.group(1)).append(" : ");
            if (m.group(2).equals("false")) s.append("ARRÊTÉ");
            else s.append("fin de log ").append(m.group(3)).append(", high watermark ").append(m.group(4));
            s.append('\n');
        }
        String who;
        try {
            int l = leader(topic);
            who = "leader " + (l < 0 ? "AUCUN (partition hors ligne)" : "nœud " + l) + ", ISR " + isr(topic);
        } catch (ExecutionException e) {
            who = "leader inconnu pour l'instant";
        }
        System.out.print(who + "\n" + s);
    }

    // ---- Le labo --------------------------------------------------------------------------------------------

    /** Les followers ne lisent plus rien du nœud {@code node} (fault hold-replication --node N). */
    static void hold(int node) throws Exception { call("/api/replication/hold", "{\"node\": " + node + "}", "réplication retenue depuis le nœud " + node); }

    static void release() throws Exception { call("/api/replication/release", null, "réplication rendue"); }

    /** Arrête brutalement le nœud (fault stop-broker N). */
    static void stop(int node) throws Exception { call("/api/brokers/" + node + "/stop", null, "nœud " + node + " arrêté brutalement"); }

    /** Redémarre le nœud et attend qu'il ait rejoint le cluster (fault start-broker N). */
    static void start(int node) throws Exception { call("/api/brokers/" + node + "/start", null, "nœud " + node + " redémarré"); }

    private static void call(String path, String json, String done) throws Exception {
        HttpResponse<String> r = Kit.labCall("POST", path, json, Duration.ofSeconds(90));
        if (r.statusCode() != 200) throw new IllegalStateException("le labo refuse " + path + " (" + r.statusCode() + ") : " + r.body());
        System.out.println("→ " + done);
    }

    /** L'élection impure, décidée par l'administrateur (kafka-leader-election.sh --election-type unclean). */
    static void electUnclean(String topic) throws Exception {
        Kit.admin().electLeaders(ElectionType.UNCLEAN, Set.of(new TopicPartition(topic, 0))).all().get(15, TimeUnit.SECONDS);
        System.out.println("→ élection impure demandée : un réplica hors de l'ISR peut devenir leader");
    }

    // ---- Le producteur --------------------------------------------------------------------------------------

    /** Ce qui ne change pas d'une expérience à l'autre : où est Kafka, les sérialiseurs, et des délais courts. */
    static Properties producerBase() {
        Properties p = new Properties();
        p.put("bootstrap.servers", Kit.BOOTSTRAP);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("request.timeout.ms", 30_000);
        p.put("delivery.timeout.ms", 45_000);   // un envoi sans réponse au bout de 45 s échoue, et le producteur le dit
        return p;
    }

    private static KafkaProducer<String, String> producer;
    private static List<String> values;
    private static List<Future<RecordMetadata>> sends;

    /** Envoie 5 messages sans attendre les réponses (le producteur reste ouvert : il réessaie tant qu'il peut). */
    static void send(Properties config, String topic) {
        Properties p = new Properties();
        p.putAll(config);
        p.put("client.id", "producteur-" + topic);
        producer = new KafkaProducer<>(p);
        values = Kit.values(RECORDS);
        sends = new ArrayList<>();
        for (String v : values) sends.add(producer.send(new ProducerRecord<>(topic, v, v)));
        System.out.println("→ " + RECORDS + " messages envoyés (acks=" + p.get("acks") + ")");
    }

    /** Attend les réponses au plus {@code max}, puis dit combien sont acquittés. */
    static int awaitAcks(Duration max) throws Exception {
        long deadline = System.currentTimeMillis() + max.toMillis();
        while (System.currentTimeMillis() < deadline && sends.stream().anyMatch(f -> !f.isDone())) Thread.sleep(100);
        int acked = acked().size();
        System.out.println("acquittés : " + acked + "/" + RECORDS);
        return acked;
    }

    /** Les messages acquittés sans erreur. */
    static List<String> acked() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < sends.size(); i++) {
            Future<RecordMetadata> f = sends.get(i);
            if (!f.isDone()) continue;
            try {
                f.get();
                out.add(values.get(i));
            } catch (Exception failed) {
                // signalé au producteur
            }
        }
        return out;
    }

    /** Attend la fin de chaque envoi (acquitté, ou échec signalé), ferme le producteur, et rend les acquittés. */
    static List<String> finish() throws Exception {
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < sends.size(); i++) {
            try {
                sends.get(i).get(60, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                failed.add(values.get(i) + " (" + (e.getCause() == null ? e : e.getCause()).getClass().getSimpleName() + ")");
            }
        }
        producer.close(Duration.ofSeconds(5));
        if (!failed.isEmpty()) System.out.println("échecs signalés au producteur : " + failed);
        return acked();
    }

    /** Votre prédiction à côté de ce qui s'est passé. */
    static void compare(int predictedLost, List<String> acked, List<String> read) {
        long lost = acked.stream().filter(v -> !read.contains(v)).count();
        System.out.println("Votre prédiction : " + (predictedLost < 0 ? "(aucune)" : predictedLost + " perdu(s)") + " ; observé : " + lost + " perdu(s).");
    }
}
