package kit.faults;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Which fault the proxies of one cluster inject next, and on which Produce request. Shared, thread-safe. */
public final class FaultPlan {

    /** The faults that separate the producer semantics. */
    public enum Fault {
        NONE("aucune"),
        /** The k-th Produce request is dropped and the connection cut: the broker never sees it. */
        LOSE_REQUEST("requête perdue"),
        /** The k-th Produce request is written, its response swallowed and the connection cut. */
        LOSE_RESPONSE("réponse perdue");

        public final String french;
        Fault(String french) { this.french = french; }
    }

    /** What a proxy does with one Produce request. */
    enum Action { FORWARD, DROP_REQUEST, SWALLOW_RESPONSE }

    private Fault fault = Fault.NONE;
    private int nth;
    private int produceRequests;
    private int fired;
    private volatile long refuseUntil;
    private short watchedApiKey = -1;
    private Runnable onWatched;
    private int watchedSeen;
    private final Set<FaultProxy> proxies = ConcurrentHashMap.newKeySet();

    /** Arms {@code fault} on the {@code nthProduce}-th Produce request (1-based) from now on. */
    public synchronized void arm(Fault fault, int nthProduce) {
        this.fault = fault;
        this.nth = nthProduce;
        this.produceRequests = 0;
        this.fired = 0;
    }

    public synchronized void disarm() { this.fault = Fault.NONE; }

    /** How many times the armed fault really fired (0: the run never reached the k-th request). */
    public synchronized int fired() { return fired; }

    /** Produce requests seen since the last arm. */
    public synchronized int produceRequests() { return produceRequests; }

    /** Cuts every open client connection now. */
    public void cutAll() { proxies.forEach(FaultProxy::cutAll); }

    /** Refuses new connections (accepted then closed at once) for {@code millis}: the broker looks unreachable. */
    public void refuseFor(long millis) {
        refuseUntil = System.currentTimeMillis() + millis;
        cutAll();
    }

    /**
     * The first request of this API (e.g. 8, OffsetCommit) is held back: {@code action} runs (the grader kills the
     * client there), then the connection is cut, so the broker never sees it. Until {@link #unwatch()}.
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

    /** True if the proxy must drop this request and cut (after running the action). */
    synchronized boolean onRequest(short apiKey) {
        if (apiKey != watchedApiKey) return false;
        watchedSeen++;
        if (watchedSeen > 1 || onWatched == null) return false;
        onWatched.run();
        return true;
    }

    boolean refusing() { return System.currentTimeMillis() < refuseUntil; }

    void register(FaultProxy proxy) { proxies.add(proxy); }

    void unregister(FaultProxy proxy) { proxies.remove(proxy); }

    synchronized Action onProduce(int acks) {
        produceRequests++;
        if (fault == Fault.NONE || produceRequests != nth) return Action.FORWARD;
        if (fault == Fault.LOSE_REQUEST) {
            fired++;
            return Action.DROP_REQUEST;
        }
        if (acks == 0) return Action.FORWARD; // acks=0: there is no response to lose
        fired++;
        return Action.SWALLOW_RESPONSE;
    }
}
