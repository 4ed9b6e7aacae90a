package kit.faults;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of one broker that reads Kafka's framing (4-byte size, then the request header:
 * api key, api version, correlation id), so that it can lose one chosen Produce request or its response.
 */
public final class FaultProxy implements AutoCloseable {

    private static final short PRODUCE = 0;

    private final int listenPort;
    private final String targetHost;
    private final int targetPort;
    private final FaultPlan plan;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private ServerSocket server;
    private volatile boolean closed;

    public FaultProxy(int listenPort, String targetHost, int targetPort, FaultPlan plan) {
        this.listenPort = listenPort;
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.plan = plan;
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

    void cutAll() { connections.forEach(Connection::cut); }

    @Override
    public void close() {
        closed = true;
        plan.unregister(this);
        try { if (server != null) server.close(); } catch (IOException ignored) { }
        cutAll();
    }

    /** One client connection and its twin to the broker; responses come back in request order. */
    private final class Connection {
        private final Socket client;
        private final Socket broker;
        private volatile int swallowCorrelationId = -1;
        private volatile boolean swallowing;

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
                    ByteBuffer header = ByteBuffer.wrap(frame);
                    short apiKey = header.getShort();
                    short apiVersion = header.getShort();
                    int correlationId = header.getInt();
                    if (plan.onRequest(apiKey)) {
                        cut();
                        return;
                    }
                    if (apiKey == PRODUCE) {
                        FaultPlan.Action action = plan.onProduce(produceAcks(frame, apiVersion));
                        if (action == FaultPlan.Action.DROP_REQUEST) {
                            cut(); // the broker never sees it
                            return;
                        }
                        if (action == FaultPlan.Action.SWALLOW_RESPONSE) {
                            swallowCorrelationId = correlationId;
                            swallowing = true;
                        }
                    }
                    out.writeInt(frame.length);
                    out.write(frame);
                    out.flush();
                }
            } catch (IOException | RuntimeException e) {
                cut();
            }
        }

        private void responses() {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(broker.getInputStream()));
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(client.getOutputStream()))) {
                while (true) {
                    byte[] frame = readFrame(in);
                    int correlationId = ByteBuffer.wrap(frame).getInt();
                    if (swallowing && correlationId == swallowCorrelationId) {
                        cut(); // the batch is written, the producer will never know
                        return;
                    }
                    out.writeInt(frame.length);
                    out.write(frame);
                    out.flush();
                }
            } catch (IOException | RuntimeException e) {
                cut();
            }
        }

        void cut() {
            connections.remove(this);
            try { client.close(); } catch (IOException ignored) { }
            try { broker.close(); } catch (IOException ignored) { }
        }
    }

    private static byte[] readFrame(DataInputStream in) throws IOException {
        int size = in.readInt();
        if (size < 4 || size > 100 * 1024 * 1024) throw new IOException("trame Kafka invalide : " + size + " octets");
        byte[] frame = new byte[size];
        in.readFully(frame);
        return frame;
    }

    /**
     * The acks of a Produce request. Header v2 (Produce v9+, flexible) ends with tagged fields and the body starts
     * with a compact nullable transactional_id; before v9, header v1 and a classic nullable string.
     */
    static int produceAcks(byte[] frame, short apiVersion) {
        ByteBuffer b = ByteBuffer.wrap(frame);
        b.position(8);
        short clientIdLength = b.getShort();
        if (clientIdLength > 0) b.position(b.position() + clientIdLength);
        if (apiVersion >= 9) {
            int taggedFields = unsignedVarint(b);
            for (int i = 0; i < taggedFields; i++) {
                unsignedVarint(b);
                int size = unsignedVarint(b);
                b.position(b.position() + size);
            }
            int transactionalIdLength = unsignedVarint(b) - 1;
            if (transactionalIdLength > 0) b.position(b.position() + transactionalIdLength);
        } else {
            short transactionalIdLength = b.getShort();
            if (transactionalIdLength > 0) b.position(b.position() + transactionalIdLength);
        }
        return b.getShort();
    }

    private static int unsignedVarint(ByteBuffer b) {
        int value = 0;
        for (int shift = 0; ; shift += 7) {
            byte x = b.get();
            value |= (x & 0x7f) << shift;
            if ((x & 0x80) == 0) return value;
        }
    }
}
