package kit.faults;

import org.apache.kafka.common.protocol.ApiKeys;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which faults the proxies of one lab inject, on which request. Shared by all the proxies of a cluster; thread-safe.
 * A fault is a rule: "lose the response of the 2nd EndTxn from now on", "delay the next Fetch by 2 s"... Each fires
 * once, on the {@code nth} request that matches it, then stays in {@link #rules()} as fired.
 */
public final class FaultPlan {

    /** The faults that separate the producer semantics (the tour's and the grader's shorthand for a rule on Produce). */
    public enum Fault {
        NONE("aucune"),
        /** The k-th Produce request is dropped and the connection cut: the broker never sees it. */
        LOSE_REQUEST("requête perdue"),
        /** The k-th Produce request is written, its response swallowed and the connection cut. */
        LOSE_RESPONSE("réponse perdue");

        public final String french;
        Fault(String french) { this.french = french; }
    }

    /** What a rule does to the request it fires on. */
    public enum Kind {
        LOSE_REQUEST("lose-request", "requête perdue"),
        LOSE_RESPONSE("lose-response", "réponse perdue"),
        DELAY("delay", "retard");

        public final String id;
        public final String french;

        Kind(String id, String french) { this.id = id; this.french = french; }

        public static Kind byId(String id) {
            for (Kind k : values()) if (k.id.equals(id)) return k;
            return null;
        }
    }

    /** One armed fault, as the control API and {@code fault status} show it. */
    public record Rule(int id, Kind kind, ApiKeys api, int nth, String clientId, long ms, int seen, boolean fired, String note,
                       long firedAtMs) {
        /** A lose-request with {@code ms} > 0 keeps losing every matching request for that long after it fired. */
        boolean losingWindowOpen(long now) { return kind == Kind.LOSE_REQUEST && fired && ms > 0 && now < firedAtMs + ms; }
    }

    /** What the proxy must do with one request ({@code kind} null: forward it untouched). */
    record Decision(Kind kind, long delayMs) {
        static final Decision FORWARD = new Decision(null, 0);
    }

    private final List<Rule> rules = new ArrayList<>();
    private int nextId = 1;
    private Rule legacy;
    private int produceRequests;
    private volatile long refuseUntil;
    private short watchedApiKey = -1;
    private Runnable onWatched;
    private int watchedSeen;
    private final Set<FaultProxy> proxies = ConcurrentHashMap.newKeySet();

    /**
     * Arms a fault on the {@code nth} request (1-based, from now on) of {@code api}, optionally only from the client
     * whose client.id is {@code clientId}. {@code ms}: the delay, for {@link Kind#DELAY}.
     */
    public synchronized Rule add(Kind kind, ApiKeys api, int nth, String clientId, long ms) {
        if (nth < 1) throw new IllegalArgumentException("nth doit valoir au moins 1 (reçu : " + nth + ")");
        if (ms < 0) throw new IllegalArgumentException("la durée ne peut pas être négative (reçu : " + ms + " ms)");
        Rule r = new Rule(nextId++, kind, api, nth, clientId == null || clientId.isBlank() ? null : clientId, ms, 0, false, null, 0);
        rules.add(r);
        return r;
    }

    /** Every rule armed since the last {@link #clear()}, fired or not, in the order they were armed. */
    public synchronized List<Rule> rules() { return List.copyOf(rules); }

    /** Removes one rule, leaving the others armed; returns it as it was last (fired or not), or null if it was gone. */
    public synchronized Rule remove(int id) {
        int i = indexOf(id);
        return i < 0 ? null : rules.remove(i);
    }

    /** Removes every rule and ends a refusal; returns how many rules there were. */
    public synchronized int clear() {
        int n = rules.size();
        rules.clear();
        refuseUntil = 0;
        return n;
    }

    /** Arms {@code fault} on the {@code nthProduce}-th Produce request (1-based) from now on, replacing the last one armed so. */
    public synchronized void arm(Fault fault, int nthProduce) {
        disarm();
        produceRequests = 0;
        legacy = fault == Fault.NONE ? null
                : add(fault == Fault.LOSE_REQUEST ? Kind.LOSE_REQUEST : Kind.LOSE_RESPONSE, ApiKeys.PRODUCE, nthProduce, null, 0);
    }

    /** Takes back what {@link #arm} armed; {@link #fired()} still tells whether it fired. */
    public synchronized void disarm() {
        if (legacy != null) {
            int i = indexOf(legacy.id());
            if (i >= 0) {
                legacy = rules.get(i);
                rules.remove(i);
            }
        }
    }

    /** How many times the fault armed by {@link #arm} really fired (0: the run never reached the k-th request). */
    public synchronized int fired() {
        if (legacy == null) return 0;
        int i = indexOf(legacy.id());
        return (i >= 0 ? rules.get(i) : legacy).fired() ? 1 : 0;
    }

    /** Produce requests seen since the last {@link #arm}. */
    public synchronized int produceRequests() { return produceRequests; }

    /** Cuts every open client connection now; returns how many. */
    public int cutAll() { return proxies.stream().mapToInt(FaultProxy::cutAll).sum(); }

    /** Refuses new connections (accepted then closed at once) for {@code millis}: the broker looks unreachable. */
    public void refuseFor(long millis) {
        if (millis < 0) throw new IllegalArgumentException("la durée ne peut pas être négative (reçu : " + millis + " ms)");
        refuseUntil = System.currentTimeMillis() + millis;
        cutAll();
    }

    public boolean refusing() { return System.currentTimeMillis() < refuseUntil; }

    /**
     * The first request of this API (e.g. OffsetCommit) is held back: {@code action} runs (the grader kills the client
     * there), then the connection is cut, so the broker never sees it. Until {@link #unwatch()}.
     */
    public synchronized void holdFirst(short apiKey, Runnable action) {
        this.watchedApiKey = apiKey;
        this.onWatched = action;
        this.watchedSeen = 0;
    }

    public synchronized void unwatch() {
        this.watchedApiKey = -1;
        this.onWatched = null;
    }

    /** Requests of the watched API seen since {@link #holdFirst}. */
    public synchronized int watchedSeen() { return watchedSeen; }

    /** True if the proxy must drop this request and cut (after running the held-back action). */
    synchronized boolean hold(short apiKey) {
        if (apiKey != watchedApiKey) return false;
        watchedSeen++;
        if (watchedSeen > 1 || onWatched == null) return false;
        onWatched.run();
        return true;
    }

    /** Counts the request against every matching rule and returns what the first rule that fires asks for. */
    synchronized Decision onRequest(ApiKeys api, String clientId, boolean expectsResponse) {
        if (api == ApiKeys.PRODUCE) produceRequests++;
        Decision decision = Decision.FORWARD;
        long now = System.currentTimeMillis();
        for (int i = 0; i < rules.size(); i++) {
            Rule r = rules.get(i);
            if (r.api() != api || (r.clientId() != null && !r.clientId().equals(clientId))) continue;
            if (r.losingWindowOpen(now)) {
                rules.set(i, new Rule(r.id(), r.kind(), r.api(), r.nth(), r.clientId(), r.ms(), r.seen() + 1, true, null, r.firedAtMs()));
                if (decision.kind() == null) decision = new Decision(Kind.LOSE_REQUEST, 0);
                continue;
            }
            if (r.fired() || r.note() != null) continue;
            int seen = r.seen() + 1;
            boolean fire = seen == r.nth() && decision.kind() == null;
            String note = null;
            if (fire && r.kind() == Kind.LOSE_RESPONSE && !expectsResponse) {
                // acks=0: the broker sends no response, there is nothing to lose
                note = "pas de réponse à perdre (acks=0)";
                fire = false;
            }
            rules.set(i, new Rule(r.id(), r.kind(), r.api(), r.nth(), r.clientId(), r.ms(), seen, fire, note, fire ? now : 0));
            if (fire) decision = new Decision(r.kind(), r.kind() == Kind.DELAY ? r.ms() : 0);
        }
        return decision;
    }

    void register(FaultProxy proxy) { proxies.add(proxy); }

    void unregister(FaultProxy proxy) { proxies.remove(proxy); }

    private int indexOf(int id) {
        for (int i = 0; i < rules.size(); i++) if (rules.get(i).id() == id) return i;
        return -1;
    }

    /** The API named {@code name} (Produce, EndTxn, TxnOffsetCommit…, any case), or null. */
    public static ApiKeys api(String name) {
        for (ApiKeys k : ApiKeys.values()) if (k.name.equalsIgnoreCase(name)) return k;
        return null;
    }

    /** Every API name a fault can target, for error messages and the control page. */
    public static List<String> apiNames() {
        return java.util.Arrays.stream(ApiKeys.values()).filter(k -> k.inScope(org.apache.kafka.common.message.ApiMessageType.ListenerType.BROKER))
                .map(k -> k.name).toList();
    }
}
