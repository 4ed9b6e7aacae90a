package kit.lab;

import kit.faults.FaultyKafka;
import kit.faults.Trace;
import kit.faults.TraceEntry;
import kit.util.Errors;

import com.sun.net.httpserver.HttpExchange;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The lab on the projector: one page, served by the lab's control server at {@code /}, that shows live what goes over
 * the wire (the sequence diagram of {@code /api/trace.svg}, the lost requests and responses), the partitions' offsets,
 * the consumer groups' committed offsets, the open transactions and the nodes; its buttons call the same control API
 * as {@code ./jbang fault}.
 *
 * <p>Two routes of its own, next to LabControl's: {@code GET /api/events} (server-sent events: one small {@code trace}
 * event per request of the trace, background chatter left out, and a {@code state} event when the state changes) and
 * {@code GET /api/state} (the same state, once, in JSON). The state comes from Kafka's Admin API on the nodes'
 * inter-broker listener, so that it never goes through the fault proxies: the page's own requests neither show up in the
 * trace nor suffer its faults. It is polled at most every {@value #POLL_MS} ms, and only while a page is connected.
 *
 * <p>Everything is bounded: at most {@value #MAX_CLIENTS} pages at once, each with at most {@value #MAX_QUEUED} trace
 * events waiting to be written (beyond that they are dropped and the page is told to catch up with a {@code resync}
 * event) and only the latest state; the page reads the diagram from the trace, which keeps {@link Trace#CAPACITY} entries.
 */
public final class LabPage implements AutoCloseable {

    static final int MAX_CLIENTS = 8;
    static final int MAX_QUEUED = 1_000;
    static final long POLL_MS = 500;
    static final long PUSH_MS = 250;
    static final long PING_MS = 10_000;
    static final int MAX_PARTITIONS = 60;
    static final int MAX_GROUPS = 20;
    static final int MAX_TRANSACTIONS = 20;
    static final int MAX_LOST = 10;
    private static final long ADMIN_TIMEOUT_MS = 3_000;

    /** The page's files, next to this class on the class path (tooling/kit/lab/page/: Maven's resources, JBang's //FILES). */
    private static final Map<String, Asset> ASSETS = Map.of(
            "/", Asset.load("index.html", "text/html"),
            "/index.html", Asset.load("index.html", "text/html"),
            "/lab.css", Asset.load("lab.css", "text/css"),
            "/lab.js", Asset.load("lab.js", "text/javascript"));

    /** One file of the page, read once. */
    private record Asset(byte[] bytes, String type) {
        static Asset load(String name, String type) {
            try (var in = LabPage.class.getResourceAsStream("page/" + name)) {
                if (in == null) throw new IllegalStateException("la page du labo est incomplète : kit/lab/page/" + name + " absent du class path");
                return new Asset(in.readAllBytes(), type);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private final FaultyKafka kafka;
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final Consumer<TraceEntry> listener = this::onEntry;
    private final Object pushSignal = new Object();
    private final Object pollSignal = new Object();
    private final Object pollLock = new Object();
    private final Thread pusher;
    private final Thread poller;
    private volatile Snapshot snapshot = Snapshot.EMPTY;
    private volatile boolean pushNow;
    private volatile boolean closed;
    private Admin admin;

    /** What the Admin API said at {@code atMs}: the lists the page shows, and what could not be read. */
    private record Snapshot(long atMs, List<Map<String, Object>> partitions, int partitionsOmitted,
                            List<Map<String, Object>> groups, List<Map<String, Object>> transactions, List<String> errors) {
        static final Snapshot EMPTY = new Snapshot(0, List.of(), 0, List.of(), List.of(), List.of());
    }

    /** Serves the page on {@code control} (routes {@code /}, {@code /api/events}, {@code /api/state}) for this lab. */
    public LabPage(LabControl control, FaultyKafka kafka) {
        this.kafka = kafka;
        control.context("/", this::page);
        control.context("/api/events", this::events);
        control.context("/api/state", this::state);
        kafka.trace().listen(listener);
        pusher = daemon("labo-page-envoi", this::pushLoop);
        poller = daemon("labo-page-etat", this::pollLoop);
    }

    /** Pages connected to {@code /api/events} right now. */
    int clients() { return clients.size(); }

    /** The most trace events waiting for one page (bounded by {@value #MAX_QUEUED}). */
    int maxQueued() { return clients.stream().mapToInt(Client::queued).max().orElse(0); }

    @Override
    public void close() {
        closed = true;
        kafka.trace().unlisten(listener);
        pusher.interrupt();
        poller.interrupt();
        clients.forEach(Client::stop);
        synchronized (pollLock) {
            if (admin != null) admin.close(java.time.Duration.ofSeconds(2));
            admin = null;
        }
    }

    // ------------------------------------------------------------------ routes

    private void page(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            Asset asset = ASSETS.get(path);
            if (asset == null) {
                error(ex, 404, "page inconnue : " + path + " (la page du labo est à /)");
            } else if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                error(ex, 405, "la page ne se lit qu'en GET");
            } else {
                ex.getResponseHeaders().set("Content-Type", asset.type() + "; charset=utf-8");
                ex.getResponseHeaders().set("Cache-Control", "no-store");
                // the diagram is PlantUML's SVG put in the page: its style attributes need 'unsafe-inline' for styles
                ex.getResponseHeaders().set("Content-Security-Policy",
                        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'");
                ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
                if (ex.getRequestMethod().equals("HEAD")) {
                    ex.sendResponseHeaders(200, -1);
                } else {
                    ex.sendResponseHeaders(200, asset.bytes().length);
                    try (OutputStream out = ex.getResponseBody()) { out.write(asset.bytes()); }
                }
            }
        }
    }

    private void state(HttpExchange ex) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("GET")) {
                error(ex, 405, "/api/state ne se lit qu'en GET");
                return;
            }
            try {
                refresh(POLL_MS);
                LabControl.send(ex, 200, LabControl.toJson(currentState()), "application/json");
            } catch (RuntimeException e) {
                error(ex, 500, "erreur interne du labo : " + e);
            }
        }
    }

    private void events(HttpExchange ex) throws IOException {
        if (!ex.getRequestMethod().equals("GET")) {
            try (ex) { error(ex, 405, "/api/events ne se lit qu'en GET"); }
            return;
        }
        Client client;
        synchronized (clients) {
            if (closed || clients.size() >= MAX_CLIENTS) {
                try (ex) {
                    error(ex, 503, "trop de pages ouvertes sur le labo (" + MAX_CLIENTS + " au plus) : fermez-en une.");
                }
                return;
            }
            ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.sendResponseHeaders(200, 0);
            client = new Client(ex);
            clients.add(client);
        }
        client.state(LabControl.toJson(currentState()));
        // the exchange is the client's own thread's from now on: LabControl's few threads stay free for the API
        daemon("labo-page-client", client::run);
        synchronized (pollSignal) { pollSignal.notifyAll(); }
    }

    private static void error(HttpExchange ex, int status, String message) throws IOException {
        LabControl.send(ex, status, LabControl.toJson(Map.of("erreur", message)), "application/json");
    }

    // ------------------------------------------------------------------ live events

    private void onEntry(TraceEntry e) {
        if (clients.isEmpty() || Trace.NOISE.contains(e.api())) return;
        for (Client c : clients) c.offer(e);
        if (e.action() != TraceEntry.Action.FORWARDED && e.action() != TraceEntry.Action.DELAYED) {
            // a lost request or response: the list of losses goes out now, not at the next tick
            pushNow = true;
            synchronized (pushSignal) { pushSignal.notifyAll(); }
        }
    }

    /** Sends the state to the pages when it changes (checked every {@value #PUSH_MS} ms, or at once after a loss). */
    private void pushLoop() {
        String last = null;
        long lastAt = 0;
        while (!closed) {
            try {
                synchronized (pushSignal) {
                    if (!pushNow) pushSignal.wait(PUSH_MS);
                }
                pushNow = false;
                if (clients.isEmpty()) {
                    last = null;
                    continue;
                }
                String json = LabControl.toJson(currentState());
                long now = System.currentTimeMillis();
                if (!json.equals(last) || now - lastAt > 5_000) {
                    for (Client c : clients) c.state(json);
                    last = json;
                    lastAt = now;
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // a state that can't be built now will be built at the next tick
            }
        }
    }

    /** Reads the cluster through the Admin API every {@value #POLL_MS} ms, while a page is connected. */
    private void pollLoop() {
        while (!closed) {
            try {
                long wait = POLL_MS;
                if (!clients.isEmpty()) {
                    long start = System.currentTimeMillis();
                    refresh(POLL_MS);
                    pushNow = true;
                    synchronized (pushSignal) { pushSignal.notifyAll(); }
                    // every POLL_MS from start to start: a slow poll doesn't stretch the period
                    wait = Math.max(50, POLL_MS - (System.currentTimeMillis() - start));
                }
                synchronized (pollSignal) { pollSignal.wait(wait); }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // the next round tries again; the errors are in the snapshot
            }
        }
    }

    /** One page listening to /api/events: its few waiting events, written by its own thread. */
    private final class Client {
        private final HttpExchange exchange;
        private final ArrayDeque<TraceEntry> queue = new ArrayDeque<>();
        private boolean overflow;
        private String state;
        private boolean stopped;

        Client(HttpExchange exchange) { this.exchange = exchange; }

        synchronized void offer(TraceEntry e) {
            if (stopped) return;
            if (queue.size() >= MAX_QUEUED) {
                // a slow page: forget what it hasn't read, it will catch up from the trace
                queue.clear();
                overflow = true;
            } else {
                queue.addLast(e);
            }
            notifyAll();
        }

        synchronized void state(String json) {
            state = json;
            notifyAll();
        }

        synchronized int queued() { return queue.size(); }

        synchronized void stop() {
            stopped = true;
            notifyAll();
        }

        void run() {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write("retry: 1000\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                while (!closed) {
                    List<TraceEntry> batch;
                    String st;
                    boolean resync;
                    synchronized (this) {
                        long until = System.currentTimeMillis() + PING_MS;
                        long left;
                        while (!stopped && queue.isEmpty() && state == null && !overflow && (left = until - System.currentTimeMillis()) > 0) {
                            wait(left);
                        }
                        if (stopped) return;
                        batch = new ArrayList<>(queue);
                        queue.clear();
                        st = state;
                        state = null;
                        resync = overflow;
                        overflow = false;
                    }
                    StringBuilder b = new StringBuilder();
                    if (resync) b.append("event: resync\ndata: {}\n\n");
                    for (TraceEntry e : batch) b.append("event: trace\ndata: ").append(LabControl.toJson(event(e))).append("\n\n");
                    if (st != null) b.append("event: state\ndata: ").append(st).append("\n\n");
                    if (b.length() == 0) b.append(": ping\n\n"); // finds out, sooner or later, that a page is gone
                    out.write(b.toString().getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            } catch (IOException | InterruptedException | RuntimeException gone) {
                // the page went away (or the lab closes)
            } finally {
                stop();
                clients.remove(this);
                synchronized (this) { queue.clear(); }
                exchange.close();
            }
        }
    }

    /** A trace entry as a {@code trace} event: small, the page only needs to know that something passed. */
    static Map<String, Object> event(TraceEntry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", e.seq());
        m.put("time", LabControl.time(e.epochMs()));
        m.put("node", e.node());
        m.put("clientId", e.clientId());
        m.put("api", e.api());
        m.put("action", e.action().name());
        m.put("actionFr", e.action().french);
        return m;
    }

    // ------------------------------------------------------------------ state

    /** The whole state as the page (and GET /api/state) shows it: the lab's own part, now; Kafka's, as last polled. */
    Map<String, Object> currentState() {
        Snapshot s = snapshot;
        Map<String, Object> out = LabControl.status(kafka);
        out.put("lost", lost(kafka.trace().since(0, false)));
        out.put("polled", s.atMs() > 0);
        out.put("partitions", s.partitions());
        out.put("partitionsOmitted", s.partitionsOmitted());
        out.put("groups", s.groups());
        out.put("transactions", s.transactions());
        out.put("errors", s.errors());
        return out;
    }

    /**
     * The last {@value #MAX_LOST} lost requests and responses (and requests cut with their connection), newest first.
     * For a lost Produce response, each partition says where the broker wrote the batch ({@code baseOffset}): the
     * producer never heard of it, so it sends the batch again, and without idempotence ({@code producerId} -1) the
     * records at that offset are written a second time further on. (Where exactly can't be told from the trace: the
     * retries of a cut connection may come back in another order, and the trace doesn't see the records themselves.)
     */
    static List<Map<String, Object>> lost(List<TraceEntry> entries) {
        Map<Long, Integer> latest = new HashMap<>();
        for (int i = 0; i < entries.size(); i++) latest.put(entries.get(i).seq(), i);
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = entries.size() - 1; i >= 0 && out.size() < MAX_LOST; i--) {
            TraceEntry e = entries.get(i);
            if (latest.get(e.seq()) != i || e.action() == TraceEntry.Action.FORWARDED || e.action() == TraceEntry.Action.DELAYED) continue;
            Map<String, Object> m = new LinkedHashMap<>(LabControl.entry(e));
            List<Map<String, Object>> parts = new ArrayList<>();
            for (TraceEntry.PartitionData p : e.partitions() == null ? List.<TraceEntry.PartitionData>of() : e.partitions()) {
                Map<String, Object> pm = new LinkedHashMap<>();
                pm.put("topic", p.topic());
                pm.put("partition", p.partition());
                pm.put("records", p.records());
                pm.put("baseOffset", p.baseOffset());
                pm.put("producerId", p.producerId());
                pm.put("producerEpoch", p.producerEpoch());
                pm.put("baseSequence", p.baseSequence());
                pm.put("error", p.error());
                parts.add(pm);
            }
            m.put("partitions", parts);
            out.add(m);
        }
        return out;
    }

    /** Polls the Admin API unless a poll is younger than {@code maxAgeMs}; one poll at a time. */
    private void refresh(long maxAgeMs) {
        synchronized (pollLock) {
            if (closed || System.currentTimeMillis() - snapshot.atMs() < maxAgeMs) return;
            if (admin == null) {
                Properties p = new Properties();
                p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.cluster().internalBootstrapServers());
                p.put(AdminClientConfig.CLIENT_ID_CONFIG, "labo-page");
                p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS);
                p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT_MS);
                p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100);
                p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
                admin = Admin.create(p);
            }
            snapshot = poll(admin, topicRecency(kafka.trace().since(0, false)));
        }
    }

    /** The topics the trace names, with the last request that named them: the page shows the active ones first. */
    private static Map<String, Long> topicRecency(List<TraceEntry> entries) {
        Map<String, Long> last = new HashMap<>();
        for (TraceEntry e : entries) {
            if (e.partitions() != null) for (TraceEntry.PartitionData p : e.partitions()) if (p.topic() != null) last.put(p.topic(), e.seq());
            if (e.offsets() != null) for (TraceEntry.OffsetData o : e.offsets()) if (o.topic() != null) last.put(o.topic(), e.seq());
        }
        return last;
    }

    private static Snapshot poll(Admin admin, Map<String, Long> recency) {
        List<String> errors = new ArrayList<>();
        // the three other questions don't depend on the topics: asked at once
        var groupsAsked = admin.listGroups(ListGroupsOptions.forConsumerGroups()).all();
        var txAsked = admin.listTransactions(new ListTransactionsOptions().filterStates(List.of(TransactionState.ONGOING,
                TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT, TransactionState.PREPARE_EPOCH_FENCE))).all();

        // partitions: the topics named lately by the trace first, then by name
        List<TopicPartition> shown = new ArrayList<>();
        Map<TopicPartition, Integer> leaders = new HashMap<>();
        int omitted = 0;
        try {
            List<String> names = new ArrayList<>(get(admin.listTopics().names()));
            names.sort(Comparator.<String>comparingLong(t -> -recency.getOrDefault(t, 0L)).thenComparing(Comparator.naturalOrder()));
            List<String> asked = names.subList(0, Math.min(names.size(), MAX_PARTITIONS));
            omitted += names.size() - asked.size();
            Map<String, TopicDescription> described = get(admin.describeTopics(asked).allTopicNames());
            for (String t : asked) {
                TopicDescription d = described.get(t);
                if (d == null) continue;
                for (TopicPartitionInfo p : d.partitions()) {
                    if (shown.size() >= MAX_PARTITIONS) {
                        omitted++;
                        continue;
                    }
                    TopicPartition tp = new TopicPartition(t, p.partition());
                    shown.add(tp);
                    leaders.put(tp, p.leader() == null || p.leader().isEmpty() ? null : p.leader().id());
                }
            }
        } catch (Exception e) {
            errors.add("topics illisibles : " + reason(e));
        }
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (TopicPartition tp : shown) {
            earliest.put(tp, OffsetSpec.earliest());
            latest.put(tp, OffsetSpec.latest());
        }
        ListOffsetsResult start = admin.listOffsets(earliest);
        ListOffsetsResult hw = admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED));
        ListOffsetsResult lso = admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED));
        List<Map<String, Object>> partitions = new ArrayList<>();
        Map<TopicPartition, Long> highWatermarks = new HashMap<>();
        boolean offsetError = false;
        for (TopicPartition tp : shown) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topic", tp.topic());
            m.put("partition", tp.partition());
            m.put("leader", leaders.get(tp));
            Long logStart = offset(start, tp);
            Long high = offset(hw, tp);
            Long stable = offset(lso, tp);
            offsetError |= logStart == null || high == null || stable == null;
            m.put("logStartOffset", logStart);
            m.put("highWatermark", high);
            m.put("lastStableOffset", stable);
            if (high != null) highWatermarks.put(tp, high);
            partitions.add(m);
        }
        if (offsetError) errors.add("offsets de certaines partitions illisibles (leader en cours d'élection ?)");

        List<Map<String, Object>> groups = new ArrayList<>();
        try {
            List<String> ids = new ArrayList<>(get(groupsAsked).stream().map(g -> g.groupId()).sorted().toList());
            if (ids.size() > MAX_GROUPS) {
                errors.add(ids.size() + " groupes : seuls les " + MAX_GROUPS + " premiers sont montrés");
                ids = ids.subList(0, MAX_GROUPS);
            }
            Map<String, ListConsumerGroupOffsetsSpec> specs = new LinkedHashMap<>();
            for (String id : ids) specs.put(id, new ListConsumerGroupOffsetsSpec());
            var offsets = specs.isEmpty() ? null : admin.listConsumerGroupOffsets(specs);
            for (String id : ids) {
                Map<String, Object> g = new LinkedHashMap<>();
                g.put("groupId", id);
                List<Map<String, Object>> committed = new ArrayList<>();
                try {
                    Map<TopicPartition, OffsetAndMetadata> byPartition = new TreeMap<>(Comparator.comparing(TopicPartition::topic)
                            .thenComparingInt(TopicPartition::partition));
                    get(offsets.partitionsToOffsetAndMetadata(id)).forEach((tp, om) -> { if (om != null) byPartition.put(tp, om); });
                    byPartition.forEach((tp, om) -> {
                        Map<String, Object> c = new LinkedHashMap<>();
                        c.put("topic", tp.topic());
                        c.put("partition", tp.partition());
                        c.put("offset", om.offset());
                        Long high = highWatermarks.get(tp);
                        c.put("lag", high == null ? null : Math.max(0, high - om.offset()));
                        committed.add(c);
                    });
                    g.put("error", null);
                } catch (Exception e) {
                    g.put("error", "offsets illisibles : " + reason(e));
                }
                g.put("offsets", committed);
                groups.add(g);
            }
        } catch (Exception e) {
            errors.add("groupes de consommateurs illisibles : " + reason(e));
        }

        List<Map<String, Object>> transactions = new ArrayList<>();
        try {
            List<String> ids = get(txAsked).stream().map(TransactionListing::transactionalId).sorted().limit(MAX_TRANSACTIONS).toList();
            Map<String, TransactionDescription> described = ids.isEmpty() ? Map.of() : get(admin.describeTransactions(ids).all());
            for (String id : ids) {
                TransactionDescription d = described.get(id);
                if (d == null) continue;
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("transactionalId", id);
                t.put("producerId", d.producerId());
                t.put("producerEpoch", d.producerEpoch());
                t.put("state", d.state().name());
                t.put("stateFr", french(d.state()));
                t.put("partitions", d.topicPartitions().stream()
                        .sorted(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition))
                        .map(tp -> tp.topic() + "-" + tp.partition()).toList());
                t.put("startMs", d.transactionStartTimeMs().isPresent() ? d.transactionStartTimeMs().getAsLong() : null);
                t.put("timeoutMs", d.transactionTimeoutMs());
                transactions.add(t);
            }
        } catch (Exception e) {
            errors.add("transactions illisibles : " + reason(e));
        }
        return new Snapshot(System.currentTimeMillis(), partitions, omitted, groups, transactions, errors);
    }

    private static String french(TransactionState s) {
        return switch (s) {
            case ONGOING -> "en cours";
            case PREPARE_COMMIT -> "validation en cours";
            case PREPARE_ABORT -> "annulation en cours";
            case PREPARE_EPOCH_FENCE -> "producteur écarté (fencing)";
            default -> s.name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static Long offset(ListOffsetsResult r, TopicPartition tp) {
        try {
            return get(r.partitionResult(tp)).offset();
        } catch (Exception e) {
            return null;
        }
    }

    private static <T> T get(Future<T> f) throws InterruptedException, ExecutionException, TimeoutException {
        return f.get(ADMIN_TIMEOUT_MS + 500, TimeUnit.MILLISECONDS);
    }

    private static String reason(Exception e) {
        if (e instanceof TimeoutException) return "pas de réponse en " + (ADMIN_TIMEOUT_MS / 1000) + " s";
        if (e instanceof InterruptedException) Thread.currentThread().interrupt();
        return Errors.rootMessage(e);
    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
