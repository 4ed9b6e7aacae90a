package kit.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Loopback ports for brokers, proxies and tests. */
public final class Ports {

    private Ports() { }

    /** Where the OS takes the local ports of outgoing connections from (Linux: /proc; Windows, macOS: 49152 and up). */
    public static int ephemeralLow() {
        try {
            // readAllLines: Files.readString read a single byte of this /proc file (its size says 0)
            String range = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).strip();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32768; // Linux's default, below the others'
        }
    }

    /**
     * A free loopback port for a server that will close it and listen on it again later (a Kafka node stopped then
     * restarted): taken below the ephemeral range, so that no outgoing connection of this machine is given it in the
     * meantime, nor any {@link #freePort()}. Falls back on {@link #freePort()} when that range is too small.
     */
    public static int freeStablePort() {
        int low = 20000;
        int high = Math.min(ephemeralLow(), 65536);
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; high - low > 1000 && attempt < 100; attempt++) {
            int port = random.nextInt(low, high);
            if (isFree(port)) return port;
        }
        return freePort();
    }

    /** Nobody listens on this loopback port right now. */
    public static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A port nobody listens on right now, on the loopback interface. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
