// Le code Java commun aux notebooks, chargé par la cellule « %load shared.jsh ».
// Le client Kafka doit déjà être sur le classpath : la cellule %maven du notebook vient avant.
// Rien ici ne parle au broker ni au labo au chargement : seulement des définitions.
// Tout est dans une seule classe, Kit : JShell compile chaque déclaration de premier niveau à part, et une
// vingtaine de méthodes isolées coûteraient une dizaine de secondes au chargement, contre une seule fois ici.

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.ApplicationRecoverableException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.common.serialization.*;
import java.net.http.*;
import java.time.*;
import java.util.*;

class Kit {
    static final String BOOTSTRAP = System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092");
    static final String LAB = System.getenv().getOrDefault("KAFKA_LAB_CONTROL", "http://localhost:9099");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    // ---- Topics ---------------------------------------------------------------------------------------------

    static Properties adminConfig() {
        Properties p = new Properties();
        p.put("bootstrap.servers", BOOTSTRAP);
        p.put("request.timeout.ms", 10_000);
        p.put("default.api.timeout.ms", 15_000);
        return p;
    }

    /** Crée un topic neuf à une partition, « prefix-xxxxxx », et rend son nom. */
    static String newTopic(String prefix) throws Exception {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
        createTopic(name);
        OUR_TOPICS.add(name);
        return name;
    }

    /** Les topics de ce notebook : les client.id de ses programmes les contiennent (le diagramme ne montre qu'eux). */
    static final List<String> OUR_TOPICS = Collections.synchronizedList(new ArrayList<>());

    private static Admin admin;

    /** Un seul client d'administration pour tout le notebook : en créer un par appel coûte une connexion de plus. */
    static synchronized Admin admin() {
        if (admin == null) admin = Admin.create(adminConfig());
        return admin;
    }

    /** Crée un topic à une partition, avec un réplica par nœud (3 au plus). */
    static void createTopic(String name) throws Exception {
        // sur 3 nœuds (min.insync.replicas=2), un topic à un seul réplica refuserait tout envoi acks=all
        int nodes = admin().describeCluster().nodes().get(10, java.util.concurrent.TimeUnit.SECONDS).size();
        admin().createTopics(List.of(new NewTopic(name, 1, (short) Math.min(3, nodes)))).all().get(20, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Des valeurs uniques « xxxx-1 » … « xxxx-count » : une valeur relue deux fois est un doublon, jamais lue une perte. */
    static List<String> values(int count) {
        String run = UUID.randomUUID().toString().substring(0, 4);
        List<String> out = new ArrayList<>();
        for (int i = 1; i <= count; i++) out.add(run + "-" + i);
        return out;
    }

    /** Écrit des messages (clé = valeur) avec un producteur sûr (acks=all) : l'entrée des consommateurs. */
    static void fill(String t, List<String> values) {
        Properties p = new Properties();
        p.put("bootstrap.servers", BOOTSTRAP);
        p.put("acks", "all");
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (String v : values) producer.send(new ProducerRecord<>(t, v, v));
            producer.flush();
        }
    }

    /**
     * Relit toute la partition 0 d'un topic. En read_committed, attend d'abord (5 s au plus) que les marqueurs de fin
     * de transaction soient écrits : commitTransaction() rend la main avant, et la lecture s'arrêterait trop tôt.
     */
    static List<String> readAll(String t, String isolation) throws Exception {
        TopicPartition tp = new TopicPartition(t, 0);
        if (isolation.equals("read_committed")) awaitTransactionMarkers(tp);
        Properties p = new Properties();
        p.put("bootstrap.servers", BOOTSTRAP);
        p.put("isolation.level", isolation);
        p.put("enable.auto.commit", false);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp), Duration.ofSeconds(10)).get(tp); // en read_committed : le dernier offset stable
            long deadline = System.currentTimeMillis() + 20_000;
            while (c.position(tp, Duration.ofSeconds(10)) < end && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
        }
        return values;
    }

    /** Attend que le dernier offset stable rattrape la fin du log ; une transaction vraiment ouverte le retient, et c'est juste. */
    static void awaitTransactionMarkers(TopicPartition tp) throws Exception {
        long deadline = System.currentTimeMillis() + 5000;
        while (System.currentTimeMillis() < deadline) {
            long stable = latest(tp, IsolationLevel.READ_COMMITTED);
            long high = latest(tp, IsolationLevel.READ_UNCOMMITTED);
            if (stable >= high) return;
            Thread.sleep(50);
        }
    }

    static long latest(TopicPartition tp, IsolationLevel level) throws Exception {
        return admin().listOffsets(Map.of(tp, OffsetSpec.latest()), new ListOffsetsOptions(level))
                .partitionResult(tp).get(10, java.util.concurrent.TimeUnit.SECONDS).offset();
    }

    /** Vrai quand le consommateur a une partition et l'a lue jusqu'au bout (retard nul) : la boucle peut s'arrêter. */
    static boolean caughtUp(KafkaConsumer<?, ?> consumer) {
        Set<TopicPartition> assigned = consumer.assignment();
        if (assigned.isEmpty()) return false;
        for (TopicPartition tp : assigned) {
            OptionalLong lag = consumer.currentLag(tp); // connu après la première réponse Fetch, sans requête de plus
            if (lag.isEmpty() || lag.getAsLong() > 0) return false;
        }
        return true;
    }

    // ---- Le crash simulé ------------------------------------------------------------------------------------

    /**
     * Un crash dans le noyau, sans le tuer : on abandonne les clients comme un processus mort les laisse.
     * Le consommateur n'envoie plus rien : enable.auto.commit=false, donc rien n'est validé, et avec group.instance.id
     * il ne quitte pas le groupe (c'est l'instance suivante, même identité, qui prend sa place).
     * Le producteur transactionnel est fermé avec Duration.ZERO : rien n'est envoyé, sa transaction reste ouverte
     * (un close() ordinaire, qui attend, l'aurait avortée proprement ; un mort ne le fait pas).
     */
    static void crash(String where, KafkaConsumer<?, ?> consumer, KafkaProducer<?, ?> producer) {
        System.out.println("CRASH simulé " + where);
        if (producer != null) producer.close(Duration.ZERO);
        if (consumer != null) consumer.close(Duration.ZERO);
    }

    // ---- erreurs des transactions (KIP-1050) : ce bloc est le même dans chaque fichier exactly-once ----------

    /**
     * What to do when a transactional call throws, by Kafka's categories (KIP-1050, kafka-clients 4.4). The same class,
     * word for word, in ProducerExactlyOnce, ConsumerExactlyOnce, ZombieFencing and notebooks/shared.jsh.
     */
    static final class Transactions {
        enum Action {
            /** commitTransaction a expiré : la validation est peut-être en cours, on la rappelle. */
            RETRY,
            /** erreur avortable : abortTransaction(), puis on recommence le lot (ou on le relit). */
            ABORT,
            /** écarté ou fatal : on ferme le producteur et on s'arrête, SANS abortTransaction() (il échouerait). */
            STOP
        }

        /**
         * The category of {@code error}, read along its cause chain: a producer already in an error state throws a
         * KafkaException whose cause is the real error. {@code committing}: thrown by commitTransaction.
         */
        static Action decide(Throwable error, boolean committing) {
            // un délai dépassé sur commitTransaction : le contrat de Kafka est de la rappeler (un abort, là, échouerait)
            if (committing && error instanceof TimeoutException) return Action.RETRY;
            for (Throwable t = error; t != null; t = t.getCause()) {
                // écarté : une autre instance a pris notre transactional.id (ProducerFenced, InvalidProducerEpoch) ou
                // notre group.instance.id (FencedInstanceId) ; à nous de nous arrêter (un service relancerait tout)
                if (t instanceof ApplicationRecoverableException) return Action.STOP;
                // configuration : droits refusés, broker trop ancien ; un nouvel essai n'y changerait rien
                if (t instanceof InvalidConfigurationException) return Action.STOP;
                // le coordinateur a refusé notre transaction : le producteur est dans un état fatal
                if (t instanceof InvalidTxnStateException) return Action.STOP;
                // avortable : le producteur le sait lui-même (nouveaux essais épuisés, séquence rompue qu'il remet à zéro…)
                if (t instanceof TransactionAbortableException) return Action.ABORT;
            }
            // toute autre erreur de Kafka (OutOfOrderSequence, délai dépassé ailleurs que sur le commit…) : avortable
            return error instanceof KafkaException ? Action.ABORT : Action.STOP;
        }

        /** commitTransaction, called again when it times out; after 5 tries, stops without abortTransaction. */
        static void commit(Producer<?, ?> producer) {
            for (int attempt = 1; ; attempt++) {
                try {
                    producer.commitTransaction();
                    return;
                } catch (KafkaException e) {
                    if (decide(e, true) != Action.RETRY) throw e;
                    if (attempt == 5) {
                        throw new IllegalStateException("commitTransaction a expiré 5 fois, on s'arrête sans avorter : le coordinateur "
                                + "termine seul la transaction (validée s'il a enregistré la demande, sinon avortée au bout de "
                                + "transaction.timeout.ms)");
                    }
                    System.out.println("commitTransaction a expiré, nouvel essai (" + attempt + ")");
                }
            }
        }

        /** The real error (the first ApiException along the cause chain), in French for a fencing or a configuration error. */
        static String why(Throwable error) {
            Throwable t = error;
            while (t.getCause() != null && !(t instanceof ApiException)) t = t.getCause();
            String cause = t.getClass().getSimpleName() + " : " + t.getMessage();
            return t instanceof ApplicationRecoverableException ? "une autre instance a pris notre place, nous sommes le zombie (" + cause + ")"
                    : t instanceof InvalidConfigurationException ? "le broker refuse notre configuration : droits, version, nom de topic… ("
                    + cause + ")" : cause;
        }
    }

    // ---- Le labo (docs/LABO.md) -----------------------------------------------------------------------------

    static HttpResponse<String> labCall(String method, String path, String json) throws Exception {
        return labCall(method, path, json, Duration.ofSeconds(10));
    }

    static HttpResponse<String> labCall(String method, String path, String json, Duration timeout) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(java.net.URI.create(LAB + path)).timeout(timeout);
        // a lab opened to the room (./jbang broker --faults --listen …) asks for the token of its ready line
        String token = System.getenv("KAFKA_LAB_TOKEN");
        if (token != null && !token.isBlank()) r.header("Authorization", "Bearer " + token.strip());
        if (method.equals("POST")) r.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json == null ? "" : json));
        try {
            return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString(java.nio.charset.StandardCharsets.UTF_8));
        } catch (HttpTimeoutException e) {
            throw new IllegalStateException("Le labo (" + LAB + ") n'a pas répondu à " + method + " " + path + " en " + timeout.toSeconds() + " s.");
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Le labo ne répond pas sur " + LAB + ". Démarrez-le depuis le dossier du kit : ./jbang broker --faults"
                    + " (ou réglez KAFKA_LAB_CONTROL).");
        }
    }

    static String json(String s) { return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""; }

    /** Arme une panne : kind = lose-request, lose-response ou delay ; sur la nth requête api à venir du client clientId. */
    static String armFault(String kind, String api, int nth, String clientId) throws Exception {
        return armFault(kind, api, nth, clientId, 0);
    }

    /** La même, avec la durée d'un retard (kind = delay) en millisecondes. */
    static String armFault(String kind, String api, int nth, String clientId, int ms) throws Exception {
        String body = "{\"kind\": " + json(kind) + ", \"api\": " + json(api) + ", \"nth\": " + nth + ", \"clientId\": " + json(clientId)
                + (ms > 0 ? ", \"ms\": " + ms : "") + "}";
        HttpResponse<String> r = labCall("POST", "/api/faults", body);
        if (r.statusCode() != 201) throw new IllegalStateException("le labo refuse la panne (" + r.statusCode() + ") : " + r.body());
        System.out.println("Panne armée : " + kind + (ms > 0 ? " de " + ms + " ms" : "") + " sur la requête " + api + " n° " + nth
                + (clientId == null ? "" : " du client " + clientId));
        return r.body();
    }

    /** Le numéro que portera la prochaine entrée de la trace : le diagramme montrera ce qui vient après. */
    static long traceNext() throws Exception {
        HttpResponse<String> r = labCall("GET", "/api/trace?since=" + Long.MAX_VALUE, null);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"next\"\\s*:\\s*(\\d+)").matcher(r.body());
        if (r.statusCode() != 200 || !m.find()) throw new IllegalStateException("trace illisible (" + r.statusCode() + ") : " + r.body());
        return Long.parseLong(m.group(1));
    }

    /**
     * Affiche le diagramme de séquence des requêtes passées par le labo depuis {@code since} (sans le bruit de fond),
     * celles des clients de ce notebook seulement : leur client.id contient un de ses topics (« producteur-nb03-… »,
     * « consumer-g-nb04-…-1 »), ceux d'un autre notebook sur le même labo non.
     */
    static void showTrace(long since) throws Exception {
        String mine = java.net.URLEncoder.encode(String.join(",", OUR_TOPICS), java.nio.charset.StandardCharsets.UTF_8);
        // le premier dessin d'une session réveille le moteur de diagrammes du labo : il peut prendre plusieurs secondes
        HttpResponse<String> r = labCall("GET", "/api/trace.svg?since=" + since + "&client=" + mine, null, Duration.ofSeconds(60));
        if (r.statusCode() != 200) {
            System.out.println("(diagramme indisponible : " + r.statusCode() + " " + r.body() + ")");
            return;
        }
        display(r.body(), "image/svg+xml");
    }

    // ---- Le bilan -------------------------------------------------------------------------------------------

    /**
     * Compte et imprime le bilan d'une panne. {@code sent} : ce que le programme croit livré (le producteur : les
     * messages acquittés sans erreur, hors transactions avortées ; le consommateur : les messages du topic d'entrée).
     * {@code read} : ce qui a été relu (ou traité), doublons compris. La dernière ligne est lue par les tests
     * (docs/CONTRAT.md) : BILAN envoyés=N lus=N perdus=N doublons=N
     */
    static void report(Collection<String> sent, List<String> read) {
        Map<String, Integer> times = new LinkedHashMap<>();
        for (String v : read) times.merge(v, 1, Integer::sum);
        Set<String> expected = new LinkedHashSet<>(sent);
        List<String> lost = expected.stream().filter(v -> !times.containsKey(v)).toList();
        List<String> duplicated = new ArrayList<>();
        times.forEach((v, n) -> { for (int i = 1; i < n; i++) duplicated.add(v); });
        List<String> unexpected = times.keySet().stream().filter(v -> !expected.contains(v)).toList();
        System.out.println("envoyés : " + expected.size() + ", lus : " + read.size());
        System.out.println(lost.isEmpty() ? "aucune perte" : plural(lost.size(), "message perdu", "messages perdus") + " : " + lost);
        System.out.println(duplicated.isEmpty() ? "aucun doublon" : plural(duplicated.size(), "doublon", "doublons") + " : " + duplicated);
        if (!unexpected.isEmpty()) System.out.println(plural(unexpected.size(), "message lu que personne n'a validé", "messages lus que personne n'a validés") + " : " + unexpected);
        if (prediction != null) printPrediction(lost.size(), duplicated.size());
        System.out.println("BILAN envoyés=" + expected.size() + " lus=" + read.size() + " perdus=" + lost.size() + " doublons=" + duplicated.size());
    }

    static String plural(int n, String one, String many) { return n + " " + (n > 1 ? many : one); }

    // ---- La prédiction ----------------------------------------------------------------------------------------

    /** La prédiction pour la prochaine panne (null : pas de cellule « Prédisez » ; -1 : rien noté) ; le bilan l'affiche puis l'oublie. */
    static int[] prediction;
    static String predictionText;

    static void predict(int lost, int duplicated, String reader) {
        if (lost < 0 || duplicated < 0) {
            prediction = new int[] {-1, -1};
            System.out.println("Pas de prédiction notée : remplacez les -1 par vos nombres, puis exécutez de nouveau la cellule.");
            return;
        }
        prediction = new int[] {lost, duplicated};
        predictionText = reader == null ? "" : reader.strip();
        System.out.println("Prédiction notée : perdus=" + lost + " doublons=" + duplicated
                + (predictionText.isEmpty() ? "" : " ; le lecteur verra : « " + predictionText + " »"));
    }

    /** La ligne d'avant le BILAN : la prédiction à côté de ce qui s'est passé. */
    static void printPrediction(int lost, int duplicated) {
        String said = prediction[0] < 0 ? "aucune (les -1 de la cellule « Prédisez »)"
                : "perdus=" + prediction[0] + " doublons=" + prediction[1] + (predictionText.isEmpty() ? "" : " (« " + predictionText + " »)");
        System.out.println("Votre prédiction : " + said + " ; observé : perdus=" + lost + " doublons=" + duplicated);
        prediction = null;
    }

    // ---- L'ordre, les offsets ---------------------------------------------------------------------------------

    /**
     * Compare l'ordre de lecture à l'ordre d'envoi. Un message est « hors d'ordre » quand il est lu après un message
     * envoyé plus tard que lui. Dernière ligne : ORDRE envoyés=N lus=N hors-ordre=N
     */
    static void reportOrder(List<String> sent, List<String> read) {
        int outOfOrder = 0, highest = -1;
        for (String v : read) {
            int rank = sent.indexOf(v);
            if (rank < highest) outOfOrder++;
            highest = Math.max(highest, rank);
        }
        System.out.println("ordre d'envoi : " + sent);
        System.out.println("ordre de lecture : " + read);
        System.out.println(outOfOrder == 0 ? "l'ordre est respecté" : plural(outOfOrder, "message lu après un message envoyé plus tard que lui", "messages lus après un message envoyé plus tard qu'eux"));
        System.out.println("ORDRE envoyés=" + sent.size() + " lus=" + read.size() + " hors-ordre=" + outOfOrder);
    }

    /** Affiche le high watermark et le dernier offset stable (LSO) de la partition 0, et rend le LSO. */
    static long printOffsets(String t) throws Exception {
        TopicPartition tp = new TopicPartition(t, 0);
        long high = latest(tp, IsolationLevel.READ_UNCOMMITTED), stable = latest(tp, IsolationLevel.READ_COMMITTED);
        System.out.println("high watermark = " + high + " ; LSO (dernier offset stable) = " + stable
                + (stable < high ? " : une transaction ouverte retient les lecteurs read_committed à l'offset " + stable : ""));
        return stable;
    }

    /** Lit la partition 0 depuis le début pendant {@code wait} au plus, ou jusqu'à {@code count} messages. */
    static List<String> readFor(String t, String isolation, int count, Duration wait) {
        TopicPartition tp = new TopicPartition(t, 0);
        Properties p = new Properties();
        p.put("bootstrap.servers", BOOTSTRAP);
        p.put("isolation.level", isolation);
        p.put("enable.auto.commit", false);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.currentTimeMillis() + wait.toMillis();
            while (values.size() < count && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
        }
        return values;
    }
}

/** Votre prédiction, avant la panne : le bilan l'affichera à côté de ce qui s'est passé (-1 : pas de prédiction). */
void predis(int perdus, int doublons, String lecteur) { Kit.predict(perdus, doublons, lecteur); }

// Où sont Kafka et le labo : les mêmes variables que les scripts du kit (docs/LABO.md).
String bootstrap = Kit.BOOTSTRAP;
String lab = Kit.LAB;

// ---- Les files (groupes de partage, KIP-932) : notebook 10 ------------------------------------------------

class ShareKit {
    /**
     * Règle le groupe de partage sur le broker : ses réglages (share.auto.offset.reset, share.record.lock.duration.ms,
     * share.delivery.count.limit…) ne sont pas ceux du client, ils passent par l'API Admin (kafka-configs --entity-type groups).
     */
    static void groupConfig(String group, Map<String, String> settings) throws Exception {
        List<AlterConfigOp> ops = settings.entrySet().stream()
                .map(e -> new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET)).toList();
        var resource = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.GROUP, group);
        Kit.admin().incrementalAlterConfigs(Map.of(resource, ops)).all().get(20, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * Un crash dans le noyau : le consommateur est abandonné tel quel, sans close() (qui enverrait ses acquittements et
     * quitterait le groupe, rendant aussitôt ses messages). Il ne demande plus rien (un share consumer ne va chercher des
     * messages que dans poll()) ; son fil réseau bat encore (heartbeat), comme un processus bloqué. Ses messages acquis
     * reviennent à la fin du verrou (share.record.lock.duration.ms).
     */
    static void crash(String where) {
        System.out.println("CRASH simulé " + where);
    }

    /** « [topic p0@3] valeur (livraison 2, ACCEPT) » : une ligne par message reçu, comme scripts/ShareConsumer.java. */
    static String line(ConsumerRecord<String, String> msg, String acknowledged) {
        return String.format("[%s p%d@%d] %s (livraison %d, %s)", msg.topic(), msg.partition(), msg.offset(), msg.value(),
                msg.deliveryCount().orElse((short) 1), acknowledged);
    }
}
