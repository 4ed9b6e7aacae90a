package kit.faults;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of one broker that reads Kafka's protocol, so that it can lose a chosen request or its
 * response, delay it, or cut connections, as its {@link FaultPlan} says; and it writes every request to a {@link Trace}.
 */
public final class FaultProxy implements AutoCloseable {

    private final int node;
    private final int listenPort;
    private final String targetHost;
    private final int targetPort;
    private final FaultPlan plan;
    private final Trace trace;
    private final KafkaWire wire;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private ServerSocket server;
    private volatile boolean closed;

    /** A proxy for node {@code node} (1-based), listening on {@code listenPort}, forwarding to the broker's real port. */
    public FaultProxy(int node, int listenPort, String targetHost, int targetPort, FaultPlan plan, Trace trace, KafkaWire wire) {
        this.node = node;
        this.listenPort = listenPort;
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.plan = plan;
        this.trace = trace;
        this.wire = wire;
    }

    /** A proxy with its own trace, for tests of a single broker. */
    public FaultProxy(int listenPort, String targetHost, int targetPort, FaultPlan plan) {
        this(1, listenPort, targetHost, targetPort, plan, new Trace(), new KafkaWire());
    }

    public FaultProxy start() throws IOException {
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort));
        plan.register(this);
        Thread acceptor = new Thread(this::acceptLoop, "proxy-" + listenPort);
        acceptor.setDaemon(true);
        acceptor.start();
        return this;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                if (plan.refusing()) {
                    client.close();
                    continue;
                }
                Socket broker;
                try {
                    broker = new Socket(targetHost, targetPort);
                } catch (IOException brokerDown) {
                    // the broker is stopped: hang up at once, as a dead broker's refused connection would
                    client.close();
                    continue;
                }
                client.setTcpNoDelay(true);
                broker.setTcpNoDelay(true);
                Connection c = new Connection(client, broker);
                connections.add(c);
                c.start();
            } catch (IOException e) {
                if (closed) return;
            }
        }
    }

    /** Cuts every open connection; returns how many. */
    int cutAll() {
        int n = 0;
        for (Connection c : connections) {
            c.cut(TraceEntry.Action.CUT);
            n++;
        }
        return n;
    }

    @Override
    public void close() {
        closed = true;
        plan.unregister(this);
        try { if (server != null) server.close(); } catch (IOException ignored) { }
        connections.forEach(c -> c.cut(null));
    }

    /** One client connection and its twin to the broker; responses come back in request order. */
    private final class Connection {
        private final Socket client;
        private final Socket broker;
        /** Requests sent to the broker whose response hasn't come back yet, by correlation id. */
        private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
        private volatile boolean cut;

        /** {@code request} carries the entry as numbered by the trace, so the response completes that very entry. */
        private record Pending(KafkaWire.Request request, boolean swallow) { }

        Connection(Socket client, Socket broker) {
            this.client = client;
            this.broker = broker;
        }

        void start() {
            Thread up = new Thread(this::requests, "proxy-requetes-" + listenPort);
            Thread down = new Thread(this::responses, "proxy-reponses-" + listenPort);
            up.setDaemon(true);
            down.setDaemon(true);
            up.start();
            down.start();
        }

        private void requests() {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(client.getInputStream()));
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(broker.getOutputStream()))) {
                while (true) {
                    byte[] frame = readFrame(in);
                    KafkaWire.Request request = wire.request(frame, node);
                    if (request == null) { // not a request this Kafka knows: pass it on untouched
                        write(out, frame);
                        continue;
                    }
                    short apiKey = request.header().apiKey().id;
                    if (plan.hold(apiKey)) {
                        trace.add(request.entry().withAction(TraceEntry.Action.REQUEST_DROPPED));
                        cut(TraceEntry.Action.CUT);
                        return;
                    }
                    FaultPlan.Decision d = plan.onRequest(request.header().apiKey(), request.header().clientId(), request.expectsResponse());
                    if (d.kind() == FaultPlan.Kind.LOSE_REQUEST) {
                        trace.add(request.entry().withAction(TraceEntry.Action.REQUEST_DROPPED));
                        cut(TraceEntry.Action.CUT); // the broker never sees it; what else was in flight is lost with the connection
                        return;
                    }
                    TraceEntry entry = request.entry();
                    if (d.kind() == FaultPlan.Kind.DELAY) {
                        entry = trace.add(entry.withAction(TraceEntry.Action.DELAYED));
                        Thread.sleep(d.delayMs());
                    } else {
                        entry = trace.add(entry);
                    }
                    if (request.expectsResponse()) {
                        pending.put(request.header().correlationId(), new Pending(new KafkaWire.Request(request.header(), entry, true),
                                d.kind() == FaultPlan.Kind.LOSE_RESPONSE));
                    }
                    write(out, frame);
                }
            } catch (IOException | RuntimeException e) {
                cut(TraceEntry.Action.CUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                cut(TraceEntry.Action.CUT);
            }
        }

        private void responses() {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(broker.getInputStream()));
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(client.getOutputStream()))) {
                while (true) {
                    byte[] frame = readFrame(in);
                    int correlationId = ((frame[0] & 0xff) << 24) | ((frame[1] & 0xff) << 16) | ((frame[2] & 0xff) << 8) | (frame[3] & 0xff);
                    Pending p = pending.remove(correlationId);
                    if (p != null) {
                        TraceEntry answered = wire.response(frame, p.request());
                        if (p.swallow()) {
                            trace.update(answered.withAction(TraceEntry.Action.RESPONSE_DROPPED));
                            cut(TraceEntry.Action.CUT); // the request is done, the client will never know
                            return;
                        }
                        if (answered != p.request().entry()) trace.update(answered);
                    }
                    write(out, frame);
                }
            } catch (IOException | RuntimeException e) {
                cut(TraceEntry.Action.CUT);
            }
        }

        /** Closes both sides; requests still waiting for their response are marked with {@code why} (null: leave them). */
        void cut(TraceEntry.Action why) {
            if (cut) return;
            cut = true;
            connections.remove(this);
            try { client.close(); } catch (IOException ignored) { }
            try { broker.close(); } catch (IOException ignored) { }
            if (why != null && !closed) {
                for (Pending p : pending.values()) trace.update(p.request().entry().withAction(why));
            }
            pending.clear();
        }
    }

    private static void write(DataOutputStream out, byte[] frame) throws IOException {
        out.writeInt(frame.length);
        out.write(frame);
        out.flush();
    }

    private static byte[] readFrame(DataInputStream in) throws IOException {
        int size = in.readInt();
        if (size < 4 || size > 100 * 1024 * 1024) throw new IOException("trame Kafka invalide : " + size + " octets");
        byte[] frame = new byte[size];
        in.readFully(frame);
        return frame;
    }
}
