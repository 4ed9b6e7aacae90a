package kit.faults;

import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.RequestHeader;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy in front of one node's inter-broker listener, the one its followers fetch from (the brokers advertise
 * it): it passes everything through, except that while {@link ReplicationHold} holds this node, a follower's Fetch
 * request (a replica id ≥ 0, which Kafka's FetchRequest reads from ReplicaId or, since version 15, ReplicaState)
 * waits in it. The follower gets nothing and its log end offset stays where it was; released, the request goes on
 * and the follower catches up. Not traced: the lab's trace is about the clients.
 */
public final class ReplicationGate implements AutoCloseable {

    private final int node;
    private final int listenPort;
    private final int targetPort;
    private final ReplicationHold hold;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private ServerSocket server;
    private volatile boolean closed;

    /** The gate of node {@code node} (its id), listening on {@code listenPort}, forwarding to the broker's real inter-broker port. */
    public ReplicationGate(int node, int listenPort, int targetPort, ReplicationHold hold) {
        this.node = node;
        this.listenPort = listenPort;
        this.targetPort = targetPort;
        this.hold = hold;
    }

    public ReplicationGate start() throws IOException {
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort));
        Thread acceptor = new Thread(this::acceptLoop, "replication-" + listenPort);
        acceptor.setDaemon(true);
        acceptor.start();
        return this;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket follower = server.accept();
                Socket broker;
                try {
                    broker = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                } catch (IOException brokerDown) {
                    follower.close(); // the node is stopped: refuse as it would
                    continue;
                }
                follower.setTcpNoDelay(true);
                broker.setTcpNoDelay(true);
                sockets.add(follower);
                sockets.add(broker);
                thread(() -> requests(follower, broker), "replication-requetes-" + listenPort);
                thread(() -> responses(follower, broker), "replication-reponses-" + listenPort);
            } catch (IOException e) {
                if (closed) return;
            }
        }
    }

    private static void thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private void requests(Socket follower, Socket broker) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(follower.getInputStream()));
             DataOutputStream out = new DataOutputStream(broker.getOutputStream())) {
            while (true) {
                int size = in.readInt();
                if (size < 4 || size > 100 * 1024 * 1024) throw new IOException("trame Kafka invalide : " + size + " octets");
                byte[] frame = new byte[size];
                in.readFully(frame);
                if (hold.held(node) && fromFollower(frame)) hold.awaitRelease(node);
                out.writeInt(size);
                out.write(frame);
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            close(follower, broker);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close(follower, broker);
        }
    }

    private void responses(Socket follower, Socket broker) {
        try (InputStream in = broker.getInputStream(); OutputStream out = follower.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            // one side closed: the other goes with it
        }
        close(follower, broker);
    }

    /** A Fetch request sent by a replica (a follower), not by a consumer (replica id -1). */
    static boolean fromFollower(byte[] frame) {
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        try {
            RequestHeader header = RequestHeader.parse(buffer);
            if (header.apiKey() != ApiKeys.FETCH) return false;
            FetchRequest fetch = (FetchRequest) AbstractRequest.parseRequest(ApiKeys.FETCH, header.apiVersion(), new ByteBufferAccessor(buffer)).request;
            return fetch.replicaId() >= 0;
        } catch (RuntimeException unknown) {
            return false;
        }
    }

    private void close(Socket a, Socket b) {
        sockets.remove(a);
        sockets.remove(b);
        try { a.close(); } catch (IOException ignored) { }
        try { b.close(); } catch (IOException ignored) { }
    }

    @Override
    public void close() {
        closed = true;
        try { if (server != null) server.close(); } catch (IOException ignored) { }
        for (Socket s : sockets) {
            try { s.close(); } catch (IOException ignored) { }
        }
        sockets.clear();
    }
}
