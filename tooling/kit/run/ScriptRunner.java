package kit.run;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Runs a kit command as a user does, through the ./jbang launcher, in its own process, with a time limit. */
public final class ScriptRunner {

    /** Output kept per stream: a program that floods its output can't exhaust memory. */
    public static final int MAX_CAPTURE_BYTES = 2 * 1024 * 1024;

    /**
     * What a finished (or killed) process left behind. {@code limit}: which of the sandbox's limits it hit, in French for
     * the report (null if none).
     */
    public record Result(int exitCode, String stdout, String stderr, boolean timedOut, boolean truncated, Duration elapsed, String limit) {
        public Result(int exitCode, String stdout, String stderr, boolean timedOut, boolean truncated, Duration elapsed) {
            this(exitCode, stdout, stderr, timedOut, truncated, elapsed, null);
        }

        /** The same result, with the limit it hit. */
        public Result withLimit(String why) {
            return new Result(exitCode, stdout, stderr, timedOut, truncated, elapsed, why);
        }

        public ScriptOutput output() { return ScriptOutput.parse(stdout); }

        /** For assertion messages: the exit code and the tail of both streams. */
        public String describe() {
            return "code " + exitCode + (timedOut ? " (délai dépassé)" : "") + "\n--- stdout ---\n" + tail(stdout)
                    + "\n--- stderr ---\n" + tail(stderr);
        }

        private static String tail(String s) {
            return s.length() <= 4000 ? s : "…" + s.substring(s.length() - 4000);
        }
    }

    private ScriptRunner() { }

    /**
     * The kit's root folder: -Dkit.root, $KIT_ROOT, the folder of the ./jbang launcher that started this JVM, or the
     * first parent of the working directory holding jbang-catalog.json.
     */
    public static Path root() {
        String prop = System.getProperty("kit.root", System.getenv("KIT_ROOT"));
        if (prop != null && !prop.isBlank()) return Path.of(prop).toAbsolutePath().normalize();
        // started by the kit's ./jbang launcher from elsewhere (a student's repository in CI): the launcher's folder
        String launcher = System.getenv("JBANG_LAUNCH_CMD");
        if (launcher != null && !launcher.isBlank()) {
            Path kit = Path.of(launcher).toAbsolutePath().normalize().getParent();
            if (kit != null && Files.exists(kit.resolve("jbang-catalog.json")) && Files.exists(kit.resolve("jbang"))) return kit;
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.exists(dir.resolve("jbang-catalog.json")) && Files.exists(dir.resolve("jbang"))) return dir;
            dir = dir.getParent();
        }
        throw new IllegalStateException("Racine du kit introuvable : lancez depuis le dépôt ou réglez KIT_ROOT.");
    }

    /** {@code ./jbang args...} from the kit's root. */
    public static Result jbang(Duration timeout, String... args) {
        return jbang(timeout, Map.of(), args);
    }

    public static Result jbang(Duration timeout, Map<String, String> env, String... args) {
        return jbang(timeout, env, p -> { }, args);
    }

    /** As above; {@code started} receives the process as soon as it runs (to kill it from outside, as a crash would). */
    public static Result jbang(Duration timeout, Map<String, String> env, Consumer<Process> started, String... args) {
        List<String> command = new ArrayList<>();
        command.add(root().resolve("jbang").toString());
        command.addAll(Arrays.asList(args));
        return run(command, root(), env, timeout, started);
    }

    /** Runs a command (never through a shell), killing its whole process tree if it outlives {@code timeout}. */
    public static Result run(List<String> command, Path workDir, Map<String, String> env, Duration timeout) {
        return run(command, workDir, env, timeout, p -> { });
    }

    public static Result run(List<String> command, Path workDir, Map<String, String> env, Duration timeout, Consumer<Process> started) {
        return run(command, workDir, env, timeout, started, true);
    }

    /**
     * As above; with {@code inheritEnv=false} the process gets {@code env} only, none of this JVM's variables (a student's
     * program must not see the teacher's tokens). Its standard input is closed at once: nothing to read.
     */
    public static Result run(List<String> command, Path workDir, Map<String, String> env, Duration timeout, Consumer<Process> started,
                             boolean inheritEnv) {
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
        if (!inheritEnv) pb.environment().clear();
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.PIPE);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result(-1, "", "Impossible de lancer " + command.get(0) + " : " + e.getMessage(), false, false,
                    Duration.ofNanos(System.nanoTime() - t0));
        }
        try {
            p.getOutputStream().close();
        } catch (IOException ignored) {
            // already gone
        }
        started.accept(p);
        // untrusted code (no inherited environment): past the bound, the output is dropped and the program stopped
        Capture out = new Capture(p.getInputStream(), inheritEnv ? null : p);
        Capture err = new Capture(p.getErrorStream(), inheritEnv ? null : p);
        out.start();
        err.start();
        boolean finished;
        try {
            finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finished = false;
        }
        // what it started and left behind goes with it, timed out or not
        killTree(p.toHandle());
        try {
            p.waitFor(10, TimeUnit.SECONDS);
            out.join(5000);
            err.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int code = p.isAlive() ? -1 : p.exitValue();
        return new Result(finished ? code : -1, out.text(), err.text(), !finished, out.truncated || err.truncated,
                Duration.ofNanos(System.nanoTime() - t0));
    }

    /** Kills a process and everything it started (JBang execs the script's JVM, which may start more). */
    public static void killTree(ProcessHandle process) {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        all.add(0, process);
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : all) {
            try { h.onExit().get(5, TimeUnit.SECONDS); } catch (Exception ignored) { }
        }
    }

    /** Said once at the end of an output cut at MAX_CAPTURE_BYTES. */
    public static final String TRUNCATED = "\n[sortie tronquée : plus de 2 Mio, la suite est perdue]\n";

    /**
     * Reads a stream to the end in the background, keeping at most MAX_CAPTURE_BYTES. With {@code stopOnFlood}, the
     * process is killed as soon as it writes more: an endless output would otherwise run until the time limit.
     */
    private static final class Capture extends Thread {
        private final InputStream in;
        private final Process stopOnFlood;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        volatile boolean truncated;

        Capture(InputStream in, Process stopOnFlood) {
            this.in = in;
            this.stopOnFlood = stopOnFlood;
            setDaemon(true);
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    boolean flooded = false;
                    synchronized (kept) {
                        int room = MAX_CAPTURE_BYTES - kept.size();
                        if (room > 0) kept.write(buf, 0, Math.min(room, n));
                        if (n > room && !truncated) {
                            truncated = true;
                            kept.write(TRUNCATED.getBytes(StandardCharsets.UTF_8));
                            flooded = true;
                        }
                    }
                    // the process only: waiting here for its tree would keep this thread from draining the pipe
                    if (flooded && stopOnFlood != null) stopOnFlood.destroyForcibly();
                }
            } catch (IOException ignored) {
                // process gone
            }
        }

        String text() {
            synchronized (kept) {
                return kept.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
