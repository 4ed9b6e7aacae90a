package kit.lab;

//DEPS com.google.code.gson:gson:2.13.2

import kit.broker.EmbeddedKafka;
import kit.faults.FaultPlan;
import kit.faults.FaultyKafka;
import kit.faults.Trace;
import kit.faults.TraceEntry;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.apache.kafka.common.protocol.ApiKeys;

import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The lab's control API: a small HTTP/JSON server (see docs/LABO.md) through which the {@code fault} command, the
 * notebooks, the tests and the page arm faults, stop and start nodes, and read the trace. On loopback unless told to
 * listen elsewhere, and then with a token; every route goes through {@link LabAccess}.
 */
public final class LabControl implements AutoCloseable {

    private static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
    private static final Pattern BROKER_ACTION = Pattern.compile("/api/brokers/([^/]+)/(stop|start)");

    /** A request the API refuses, with its HTTP status and a French reason. */
    static final class Refused extends RuntimeException {
        final int status;
        Refused(int status, String message) { super(message); this.status = status; }
    }

    /** The control port is taken. */
    public static final class PortInUseException extends RuntimeException {
        public final int port;
        PortInUseException(int port) {
            super("Le port de contrôle " + port + " est déjà utilisé (un autre labo ?). Choisissez-en un autre avec --control-port.");
            this.port = port;
        }
    }

    /** The address given to --listen isn't one of this machine's. */
    public static final class ListenException extends RuntimeException {
        ListenException(String message) { super(message); }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "labo-controle");
        t.setDaemon(true);
        return t;
    });
    private final LabAccess access;
    private volatile FaultyKafka kafka;

    /** Binds the port now on loopback (so that a busy port fails before any broker starts); serves once {@link #serve} is called. */
    public LabControl(int port) { this(port, null); }

    /**
     * Binds the port now on {@code listen} (null: loopback only); on any other address every request must carry the
     * lab's {@link #token()} (see {@link LabAccess}). Serves once {@link #serve} is called.
     */
    public LabControl(int port, InetAddress listen) {
        InetAddress address = listen == null ? InetAddress.getLoopbackAddress() : listen;
        try {
            server = HttpServer.create(new InetSocketAddress(address, port), 32);
        } catch (BindException e) {
            if (listen != null && !listen.isAnyLocalAddress() && !isLocal(listen)) {
                throw new ListenException("impossible d'écouter sur " + listen.getHostAddress()
                        + " : ce n'est pas une adresse de cette machine (ip addr les liste ; 0.0.0.0 : toutes).");
            }
            throw new PortInUseException(port);
        } catch (IOException e) {
            throw new IllegalStateException("Impossible d'ouvrir le port de contrôle " + port + " : " + e.getMessage(), e);
        }
        access = address.isLoopbackAddress() ? LabAccess.loopback() : LabAccess.withToken();
        server.setExecutor(executor);
        context("/api/", this::handle);
    }

    private static boolean isLocal(InetAddress a) {
        try {
            return java.net.NetworkInterface.getByInetAddress(a) != null;
        } catch (java.net.SocketException e) {
            return false;
        }
    }

    /** Starts answering for this lab. */
    public LabControl serve(FaultyKafka lab) {
        this.kafka = lab;
        server.start();
        return this;
    }

    public int port() { return server.getAddress().getPort(); }

    /** Where the lab answers: http://localhost:PORT, unless it listens on one other address only. */
    public String url() { return LabAccess.url(server.getAddress().getAddress(), port()); }

    /** The token every request must carry (the lab listens beyond loopback), or null (loopback only). */
    public String token() { return access.token(); }

    /** Adds a route (the projector page's); every route goes through {@link LabAccess}. */
    public void context(String path, com.sun.net.httpserver.HttpHandler handler) {
        server.createContext(path, handler).getFilters().add(access);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getPath();
            Map<String, String> query = query(ex.getRequestURI());
            try {
                Object answer = route(method, path, query, method.equals("POST") ? body(ex) : new JsonObject(), ex);
                if (answer != null) send(ex, path.equals("/api/faults") && method.equals("POST") ? 201 : 200, GSON.toJson(answer), "application/json");
            } catch (Refused r) {
                send(ex, r.status, GSON.toJson(Map.of("erreur", r.getMessage())), "application/json");
            } catch (RuntimeException e) {
                send(ex, 500, GSON.toJson(Map.of("erreur", "erreur interne du labo : " + e)), "application/json");
            }
        }
    }

    private Object route(String method, String path, Map<String, String> query, JsonObject body, HttpExchange ex) throws IOException {
        FaultPlan plan = kafka.faults();
        Trace trace = kafka.trace();
        switch (method + " " + path) {
            case "GET /api/status": return status(kafka);
            case "GET /api/apis": return FaultPlan.apiNames();
            case "POST /api/faults": return rule(arm(body));
            case "POST /api/cut": return Map.of("cut", plan.cutAll());
            case "POST /api/refuse": {
                long ms = longField(body, "ms", -1);
                if (ms < 0) throw new Refused(400, "« ms » doit être une durée positive, en millisecondes.");
                plan.refuseFor(ms);
                return Map.of("refusingMs", ms);
            }
            case "POST /api/clear": return Map.of("cleared", plan.clear(), "released", kafka.replication().release());
            case "POST /api/replication/hold": return holdReplication(body);
            case "POST /api/replication/release": return Map.of("released", kafka.replication().release());
            case "GET /api/replication": return replication(query);
            case "GET /api/trace": {
                List<TraceEntry> entries = entries(trace, query);
                return Map.of("next", trace.next(), "entries", entries.stream().map(LabControl::entry).toList());
            }
            case "POST /api/trace/reset": {
                trace.reset();
                return Map.of("next", trace.next());
            }
            default: break;
        }
        Matcher m = BROKER_ACTION.matcher(path);
        if (method.equals("POST") && m.matches()) return broker(m.group(1), m.group(2).equals("stop"));
        if (method.equals("GET") && path.equals("/api/trace.svg")) {
            List<TraceEntry> entries = entries(trace, query);
            send(ex, 200, TraceDiagram.svg(entries, "Ce qui est passé sur le réseau", max(query)), "image/svg+xml");
            return null;
        }
        throw new Refused(404, "chemin inconnu : " + method + " " + path + " (voir docs/LABO.md)");
    }

    private FaultPlan.Rule arm(JsonObject body) {
        String kindName = stringField(body, "kind", null);
        FaultPlan.Kind kind = kindName == null ? null : FaultPlan.Kind.byId(kindName);
        if (kind == null) throw new Refused(400, "panne inconnue : « " + kindName + " » (lose-request, lose-response ou delay)");
        String apiName = stringField(body, "api", "Produce");
        ApiKeys api = FaultPlan.api(apiName);
        if (api == null) throw new Refused(400, "API inconnue : « " + apiName + " ». API possibles : " + String.join(", ", FaultPlan.apiNames()));
        long nth = longField(body, "nth", 1);
        if (nth < 1 || nth > Integer.MAX_VALUE) throw new Refused(400, "« nth » doit valoir au moins 1 (la 1re requête à venir).");
        long ms = longField(body, "ms", 0);
        if (ms < 0) throw new Refused(400, "« ms » ne peut pas être négatif.");
        if (kind == FaultPlan.Kind.DELAY && ms == 0) throw new Refused(400, "un retard demande « ms » > 0.");
        return kafka.faults().add(kind, api, (int) nth, stringField(body, "clientId", null), ms);
    }

    /** Holds the followers' fetches from one node (node: N) or from all (no node), for ms ms or until released (no ms). */
    private Object holdReplication(JsonObject body) {
        EmbeddedKafka cluster = kafka.cluster();
        long node = longField(body, "node", 0);
        long ms = longField(body, "ms", 0);
        if (ms < 0) throw new Refused(400, "« ms » ne peut pas être négatif : une durée en millisecondes (0 ou absent : jusqu'à release-replication).");
        if (cluster.size() == 1) {
            throw new Refused(409, "Le labo n'a qu'un nœud : pas de réplicas, donc pas de réplication à retenir. "
                    + "Relancez-le avec ./jbang broker --faults --brokers 3.");
        }
        if (node != 0 && !isNode(cluster, node)) {
            throw new Refused(404, "nœud " + node + " inconnu : les nœuds sont 1 à " + cluster.size() + ".");
        }
        kafka.holdReplication((int) node, ms);
        return replicationState(null);
    }

    private static boolean isNode(EmbeddedKafka cluster, long id) {
        for (int i = 0; i < cluster.size(); i++) if (cluster.nodeId(i) == id) return true;
        return false;
    }

    private Object replication(Map<String, String> query) {
        String topic = query.get("topic");
        int partition;
        try {
            partition = Integer.parseInt(query.getOrDefault("partition", "0"));
        } catch (NumberFormatException e) {
            throw new Refused(400, "« partition » doit être un numéro de partition.");
        }
        return replicationState(topic == null || topic.isBlank() ? null : new org.apache.kafka.common.TopicPartition(topic, partition));
    }

    /** The holds (node 0: all), how many follower fetches wait, and with a partition each node's log end offset and high watermark. */
    private Map<String, Object> replicationState(org.apache.kafka.common.TopicPartition partition) {
        Map<String, Object> out = new LinkedHashMap<>();
        List<Map<String, Object>> holds = new ArrayList<>();
        kafka.replication().holds().forEach((node, left) -> {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("node", node == 0 ? null : node);
            h.put("msLeft", left < 0 ? null : left);
            holds.add(h);
        });
        out.put("held", holds);
        out.put("waitingFetches", kafka.replication().waiting());
        if (partition != null) {
            EmbeddedKafka cluster = kafka.cluster();
            List<Map<String, Object>> replicas = new ArrayList<>();
            for (int i = 0; i < cluster.size(); i++) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("id", cluster.nodeId(i));
                r.put("up", cluster.isRunning(i));
                long[] offsets = cluster.replicaOffsets(i, partition).orElse(null);
                r.put("logEndOffset", offsets == null ? null : offsets[0]);
                r.put("highWatermark", offsets == null ? null : offsets[1]);
                replicas.add(r);
            }
            out.put("topic", partition.topic());
            out.put("partition", partition.partition());
            out.put("replicas", replicas);
        }
        return out;
    }

    private Object broker(String idText, boolean stop) {
        EmbeddedKafka cluster = kafka.cluster();
        int id;
        try {
            id = Integer.parseInt(idText);
        } catch (NumberFormatException e) {
            throw new Refused(400, "numéro de nœud invalide : « " + idText + " »");
        }
        if (cluster.size() == 1) {
            throw new Refused(409, "Le labo n'a qu'un nœud : il faut un cluster pour en arrêter un. Relancez-le avec ./jbang broker --faults --brokers 3.");
        }
        int index;
        try {
            index = cluster.indexOf(id);
        } catch (IllegalArgumentException e) {
            throw new Refused(404, "nœud " + id + " inconnu : les nœuds sont 1 à " + cluster.size() + ".");
        }
        synchronized (this) {
            if (stop) {
                if (!cluster.isRunning(index)) throw new Refused(409, "le nœud " + id + " est déjà arrêté.");
                for (int i = 0; i < cluster.size(); i++) {
                    if (i != index && !cluster.isRunning(i)) {
                        throw new Refused(409, "le nœud " + cluster.nodeId(i) + " est déjà arrêté : un seul nœud à la fois "
                                + "(le quorum KRaft a besoin de 2 nœuds sur 3). Redémarrez-le d'abord.");
                    }
                }
                cluster.crashNode(index);
            } else {
                if (cluster.isRunning(index)) throw new Refused(409, "le nœud " + id + " est déjà en marche.");
                try {
                    cluster.restartNode(index);
                } catch (EmbeddedKafka.StartException e) {
                    throw new Refused(409, e.getMessage());
                }
            }
        }
        return Map.of("id", id, "up", cluster.isRunning(index));
    }

    /** The lab's own state: nodes, armed faults, refusal, where the trace is (GET /api/status; the page adds Kafka's). */
    static Map<String, Object> status(FaultyKafka kafka) {
        EmbeddedKafka cluster = kafka.cluster();
        List<Map<String, Object>> brokers = new ArrayList<>();
        for (int i = 0; i < cluster.size(); i++) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("id", cluster.nodeId(i));
            b.put("port", cluster.clientPort(i));
            b.put("up", cluster.isRunning(i));
            brokers.add(b);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("bootstrap", cluster.bootstrapServers());
        out.put("brokers", brokers);
        out.put("faults", kafka.faults().rules().stream().map(LabControl::rule).toList());
        out.put("refusing", kafka.faults().refusing());
        out.put("replicationHeld", kafka.replication().holds().keySet().stream().toList());
        out.put("traceNext", kafka.trace().next());
        return out;
    }

    static Map<String, Object> rule(FaultPlan.Rule r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.id());
        m.put("kind", r.kind().id);
        m.put("api", r.api().name);
        m.put("nth", r.nth());
        m.put("clientId", r.clientId());
        m.put("ms", r.ms());
        m.put("seen", r.seen());
        m.put("fired", r.fired());
        m.put("note", r.note());
        return m;
    }

    /** One trace entry as the API shows it (docs/LABO.md). */
    public static Map<String, Object> entry(TraceEntry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", e.seq());
        m.put("time", time(e.epochMs()));
        m.put("epochMs", e.epochMs());
        m.put("node", e.node());
        m.put("clientId", e.clientId());
        m.put("api", e.api());
        m.put("apiKey", e.apiKey());
        m.put("apiVersion", e.apiVersion());
        m.put("correlationId", e.correlationId());
        m.put("action", e.action().name());
        m.put("actionFr", e.action().french);
        m.put("partitions", e.partitions());
        m.put("offsets", e.offsets());
        m.put("transactionalId", e.transactionalId());
        m.put("groupId", e.groupId());
        m.put("error", e.error());
        m.put("acks", e.acks());
        m.put("share", e.share());
        m.put("member", e.member());
        return m;
    }

    public static String toJson(Object o) { return GSON.toJson(o); }

    /** A trace time as the API and the page show it: HH:mm:ss.SSS, local time. */
    static String time(long epochMs) { return TIME.format(Instant.ofEpochMilli(epochMs)); }

    /**
     * The entries a trace query asks for: numbered {@code since} or later, without the background chatter unless
     * {@code all=true}, and with {@code client=A,B} only those whose client id contains A or B (a notebook's own
     * clients, not its neighbours').
     */
    private static List<TraceEntry> entries(Trace trace, Map<String, String> query) {
        List<TraceEntry> entries = trace.since(since(query), "true".equals(query.get("all")));
        String client = query.get("client");
        if (client == null || client.isBlank()) return entries;
        List<String> wanted = java.util.Arrays.stream(client.split(",")).map(String::trim).filter(c -> !c.isEmpty()).toList();
        return entries.stream().filter(e -> e.clientId() != null && wanted.stream().anyMatch(e.clientId()::contains)).toList();
    }

    private static long since(Map<String, String> query) {
        try {
            return Long.parseLong(query.getOrDefault("since", "0"));
        } catch (NumberFormatException e) {
            throw new Refused(400, "« since » doit être un numéro d'entrée de la trace.");
        }
    }

    /** How many requests the diagram draws, the last ones (the page on the projector asks for fewer). */
    private static int max(Map<String, String> query) {
        try {
            int max = Integer.parseInt(query.getOrDefault("max", String.valueOf(TraceDiagram.DEFAULT_MAX)));
            if (max >= 1 && max <= 500) return max;
        } catch (NumberFormatException ignored) {
        }
        throw new Refused(400, "« max » doit être un nombre de requêtes entre 1 et 500.");
    }

    private static JsonObject body(HttpExchange ex) throws IOException {
        byte[] raw = ex.getRequestBody().readNBytes(64 * 1024);
        if (raw.length == 0) return new JsonObject();
        try {
            var parsed = JsonParser.parseString(new String(raw, StandardCharsets.UTF_8));
            if (!parsed.isJsonObject()) throw new Refused(400, "le corps doit être un objet JSON.");
            return parsed.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new Refused(400, "JSON illisible : " + e.getMessage());
        }
    }

    private static String stringField(JsonObject o, String name, String otherwise) {
        return o.has(name) && !o.get(name).isJsonNull() ? o.get(name).getAsString() : otherwise;
    }

    private static long longField(JsonObject o, String name, long otherwise) {
        if (!o.has(name) || o.get(name).isJsonNull()) return otherwise;
        try {
            return o.get(name).getAsLong();
        } catch (RuntimeException e) {
            throw new Refused(400, "« " + name + " » doit être un nombre entier.");
        }
    }

    static Map<String, String> query(URI uri) {
        Map<String, String> out = new LinkedHashMap<>();
        String q = uri.getRawQuery();
        if (q == null) return out;
        for (String pair : q.split("&")) {
            int eq = pair.indexOf('=');
            String k = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    static void send(HttpExchange ex, int status, String body, String type) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = ex.getResponseBody()) { out.write(bytes); }
        }
    }
}
