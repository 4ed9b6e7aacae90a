package kit.run;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The only way out of a run's network namespace: one Unix socket per port of the job's broker (its fault proxy) and of
 * its database if it has one, in a
 * folder of the grader's bound read-only into the run, each connection relayed to that port on this machine's
 * loopback. Inside, socat listens on the advertised port and connects to the socket: the program reaches its own
 * broker, and no other port of the machine (not the other jobs' brokers, not the teacher's services).
 */
final class Relay implements AutoCloseable {

    private final Path folder;
    private final List<ServerSocketChannel> servers = new ArrayList<>();
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();

    private Relay(Path folder) { this.folder = folder; }

    /** The folder holding one socket per port, named by the port. */
    Path folder() { return folder; }

    /**
     * Sockets for {@code ports}, listening until {@link #close}: Kafka's (each request read, see REFUSED), and
     * {@code plain} ones relayed byte for byte (the job's own PostgreSQL database, its password its only key). A short
     * path: a Unix socket's is at most 107 bytes.
     */
    static Relay open(List<Integer> ports, Set<Integer> plain) throws IOException {
        Relay relay = new Relay(Files.createTempDirectory("kr"));
        try {
            for (int port : ports) {
                ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                relay.servers.add(server);
                server.bind(UnixDomainSocketAddress.of(relay.folder.resolve(String.valueOf(port))));
                daemon("relais-" + port, () -> relay.accept(server, port, plain.contains(port)));
            }
        } catch (IOException | RuntimeException e) {
            relay.close();
            throw e;
        }
        return relay;
    }

    private void accept(ServerSocketChannel server, int port, boolean plain) {
        while (server.isOpen()) {
            SocketChannel inside;
            try {
                inside = server.accept();
            } catch (IOException e) {
                return;
            }
            open.add(inside);
            try {
                SocketChannel broker = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                open.add(broker);
                daemon("relais-" + port, () -> {
                    if (plain) pump(inside, broker); else requests(inside, broker);
                });
                daemon("relais-" + port, () -> pump(broker, inside));
            } catch (IOException e) {
                closeQuietly(inside);
            }
        }
    }

    /**
     * Kafka requests that change the broker itself, not the program's own topics and group: cluster configs
     * (AlterConfigs 33, IncrementalAlterConfigs 44), quotas (AlterClientQuotas 49), ACLs (CreateAcls 30, DeleteAcls
     * 31), SCRAM users (AlterUserScramCredentials 51), replicas and leaders (AlterReplicaLogDirs 34,
     * AlterPartitionReassignments 45, ElectLeaders 43), features (UpdateFeatures 57), brokers (UnregisterBroker 64).
     * The next submissions graded on this job's broker would inherit them; no exercise sends them.
     */
    static final java.util.Map<Integer, String> REFUSED = java.util.Map.ofEntries(java.util.Map.entry(33, "AlterConfigs"),
            java.util.Map.entry(44, "IncrementalAlterConfigs"), java.util.Map.entry(49, "AlterClientQuotas"),
            java.util.Map.entry(30, "CreateAcls"), java.util.Map.entry(31, "DeleteAcls"), java.util.Map.entry(51, "AlterUserScramCredentials"),
            java.util.Map.entry(34, "AlterReplicaLogDirs"), java.util.Map.entry(45, "AlterPartitionReassignments"),
            java.util.Map.entry(43, "ElectLeaders"), java.util.Map.entry(57, "UpdateFeatures"), java.util.Map.entry(64, "UnregisterBroker"));

    /** The largest request relayed (the broker's socket.request.max.bytes default, 100 MiB). */
    private static final int MAX_REQUEST = 100 * 1024 * 1024;

    private volatile String refused;

    /** The first request refused (its API's name), or null. */
    String refused() { return refused; }

    /** The program's requests, one frame at a time (size, then api_key first in every request header); see REFUSED. */
    private void requests(SocketChannel from, SocketChannel to) {
        ByteBuffer size = ByteBuffer.allocate(4);
        try {
            while (true) {
                size.clear();
                if (!readFully(from, size)) return;
                size.flip();
                int n = size.getInt(0);
                if (n < 2 || n > MAX_REQUEST) return;
                ByteBuffer frame = ByteBuffer.allocate(n);
                if (!readFully(from, frame)) return;
                frame.flip();
                String api = REFUSED.get((int) frame.getShort(0));
                if (api != null) {
                    if (refused == null) refused = api;
                    return;
                }
                while (size.hasRemaining()) to.write(size);
                while (frame.hasRemaining()) to.write(frame);
            }
        } catch (IOException ignored) {
            // one side closed
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static boolean readFully(SocketChannel from, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) if (from.read(b) < 0) return false;
        return true;
    }

    /** Copies {@code from} to {@code to} until either ends; then closes both. */
    private void pump(SocketChannel from, SocketChannel to) {
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        try {
            while (from.read(buffer) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) to.write(buffer);
                buffer.clear();
            }
        } catch (IOException ignored) {
            // one side closed
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void closeQuietly(SocketChannel c) {
        open.remove(c);
        try {
            c.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static void daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() {
        for (ServerSocketChannel s : servers) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
        new ArrayList<>(open).forEach(this::closeQuietly);
        kit.util.Folders.deleteRecursively(folder);
    }
}
