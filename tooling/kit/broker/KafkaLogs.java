package kit.broker;

//DEPS org.slf4j:slf4j-api:2.0.17
//DEPS org.slf4j:slf4j-jdk14:2.0.17

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Where the kit's JVMs send Kafka's logs. Kafka (broker and clients) logs through SLF4J, bound here to java.util.logging
 * (slf4j-jdk14) because one JVM needs two destinations: every INFO line of the embedded brokers to
 * {@code <data-dir>/logs/kafka.log}, whatever -v says, and on the console only what -v asks for (errors by default).
 */
public final class KafkaLogs {

    /** Loggers whose errors are expected in a lab where nodes are stopped on purpose: kept out of the console, still in the file. */
    private static final Set<String> EXPECTED_ERRORS = Set.of(
            // the last node of a cluster that shuts down has no quorum left: an expected, harmless timeout
            "org.apache.kafka.raft.KafkaRaftClientDriver",
            // a node stopped on purpose (the lab, eos-bounce, lab-bounces): the others log its absence as errors
            "kafka.server.ControllerApis",
            "org.apache.kafka.controller.ReplicationControlManager",
            // a loaded 2-core machine makes the controller slow: it says so at ERROR level, and carries on
            "org.apache.kafka.controller.EventPerformanceMonitor");

    /** Past this size kafka.log becomes kafka.log.1 (the previous .1 is dropped): a lab left on all day stays bounded. */
    static final long ROTATE_BYTES = 64L * 1024 * 1024;

    private static final Logger ROOT = Logger.getLogger("");
    private static final Deque<Path> FILES = new ArrayDeque<>();
    private static ConsoleHandler console;
    private static FileLog file;

    private KafkaLogs() { }

    /** Kafka on the console: 0 errors only (the expected ones aside), 1 info, 2 debug (the file follows to debug). */
    public static synchronized void verbosity(int v) {
        install();
        Level level = v <= 0 ? Level.SEVERE : v == 1 ? Level.INFO : Level.FINE;
        console.setLevel(level);
        ROOT.setLevel(v >= 2 ? Level.FINE : Level.INFO);
    }

    /** A client-only JVM (the bench's own loop): errors on the console, no file. */
    public static synchronized void consoleOnly() {
        install();
    }

    /** The file the embedded brokers of this JVM log to now; null when none runs. */
    public static synchronized Path file() {
        return FILES.peekLast();
    }

    /** A cluster starts: its directory's logs/kafka.log receives Kafka's lines until it closes (the newest cluster wins). */
    static synchronized Path open(Path dataDir) {
        install();
        Path f = dataDir.resolve("logs").resolve("kafka.log").toAbsolutePath();
        FILES.remove(f);
        FILES.addLast(f);
        file.target(f);
        return f;
    }

    /** The cluster closed: the file goes back to the previous cluster still running, if any. */
    static synchronized void close(Path f) {
        if (f == null) return;
        FILES.remove(f);
        file.target(FILES.peekLast());
    }

    private static void install() {
        if (console != null) return;
        for (Handler h : ROOT.getHandlers()) ROOT.removeHandler(h);
        ROOT.setLevel(Level.INFO);
        console = new ConsoleHandler(); // System.err
        console.setLevel(Level.SEVERE);
        console.setFormatter(new Line());
        console.setFilter(r -> r.getLevel().intValue() < Level.SEVERE.intValue() || !EXPECTED_ERRORS.contains(r.getLoggerName()));
        ROOT.addHandler(console);
        file = new FileLog();
        file.setFormatter(new Line());
        ROOT.addHandler(file);
    }

    /** One line per record: time, level, thread (Kafka's threads carry the node id), logger, message, and the stack. */
    static final class Line extends Formatter {
        private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

        @Override
        public String format(LogRecord r) {
            StringBuilder s = new StringBuilder(200);
            s.append('[').append(TIME.format(Instant.ofEpochMilli(r.getMillis()))).append("] ").append(level(r.getLevel()))
                    .append(" [").append(Thread.currentThread().getName()).append("] ").append(r.getLoggerName()).append(" - ")
                    .append(formatMessage(r)).append(System.lineSeparator());
            if (r.getThrown() != null) {
                StringWriter w = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(w));
                s.append(w);
            }
            return s.toString();
        }

        private static String level(Level l) {
            int v = l.intValue();
            return v >= Level.SEVERE.intValue() ? "ERROR" : v >= Level.WARNING.intValue() ? "WARN" : v >= Level.INFO.intValue() ? "INFO"
                    : v >= Level.FINE.intValue() ? "DEBUG" : "TRACE";
        }
    }

    /** kafka.log, written through at each line (a halted JVM loses nothing), rotated once past {@link #ROTATE_BYTES}. */
    static final class FileLog extends Handler {
        private Path path;
        private OutputStream out;
        private long size;

        synchronized void target(Path p) {
            if (p != null && p.equals(path)) return;
            closeStream();
            path = p;
            if (p == null) return;
            try {
                Files.createDirectories(p.getParent());
                out = Files.newOutputStream(p, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                size = Files.size(p);
            } catch (IOException e) {
                out = null; // a read-only data dir: the console still says what -v asks for
            }
        }

        @Override
        public synchronized void publish(LogRecord r) {
            if (out == null || !isLoggable(r)) return;
            try {
                byte[] line = getFormatter().format(r).getBytes(StandardCharsets.UTF_8);
                out.write(line);
                out.flush();
                size += line.length;
                if (size > ROTATE_BYTES) rotate();
            } catch (IOException | RuntimeException e) {
                // a full disk must not break the broker: the line is lost, Kafka goes on
            }
        }

        private void rotate() throws IOException {
            Path p = path;
            closeStream();
            Files.move(p, p.resolveSibling(p.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
            path = null;
            target(p);
        }

        private void closeStream() {
            if (out != null) {
                try { out.close(); } catch (IOException ignored) { }
            }
            out = null;
        }

        @Override
        public synchronized void flush() { }

        @Override
        public synchronized void close() {
            closeStream();
            path = null;
        }
    }
}
