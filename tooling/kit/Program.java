package kit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * A script built once by JBang, then run many times with the very java command JBang would exec, without paying
 * JBang's own start-up on every run. The tour and the grader run each script 1 to 6 times; a crash is still the death
 * of a real process.
 */
public final class Program {

    /**
     * Start-up flags for the many short runs: C1 only and the serial GC. Short-lived JVMs spend most of their CPU in
     * the C2 compiler and GC threads; on 2 cores that CPU is taken from the other runs and from the broker.
     */
    static final List<String> FAST_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    /** How long one build may take: the first one may download the //DEPS. */
    static final Duration BUILD_LIMIT = Duration.ofMinutes(3);

    /** Builds in flight or done in this JVM, by file and version: each script is built once however many runs it gets. */
    private static final Map<String, CompletableFuture<Build>> BUILDS = new ConcurrentHashMap<>();
    private static final ExecutorService BUILDERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "construction");
        t.setDaemon(true);
        return t;
    });

    private final List<String> command;

    private Program(List<String> command) { this.command = List.copyOf(command); }

    /** What building gave: the program, or why there is none (compiler errors), with the build's own output. */
    public record Build(Program program, String problem, ScriptRunner.Result result) {
        public boolean ok() { return program != null; }

        static Build failed(ScriptRunner.Result result) {
            if (result.timedOut()) return new Build(null, "la compilation n'a pas fini en " + result.elapsed().toSeconds() + " s", result);
            List<String> errors = (result.stderr() + "\n" + result.stdout()).lines()
                    .filter(l -> l.contains("error") || l.contains("erreur") || l.contains("^") || l.contains(".java:")).limit(8).toList();
            return new Build(null, "ne compile pas : " + (errors.isEmpty() ? "code " + result.exitCode() + " " + result.stderr().strip()
                    : String.join(" | ", errors)), result);
        }
    }

    /** The build of {@code script} as it is now on disk, started unless it already was (in this JVM). */
    public static CompletableFuture<Build> prepare(Path script) {
        Path file = script.toAbsolutePath().normalize();
        String key;
        try {
            key = file + "@" + Files.getLastModifiedTime(file).toMillis() + "/" + Files.size(file);
        } catch (IOException e) {
            key = file.toString();
        }
        return BUILDS.computeIfAbsent(key, k -> CompletableFuture.supplyAsync(() -> build(file), BUILDERS));
    }

    /**
     * {@code ./jbang run SCRIPT} with KIT_JBANG_PRINT_COMMAND=1: JBang builds the script (compiler errors on stderr) and
     * the launcher prints the java command it would exec, one word per NUL, instead of running it.
     */
    private static Build build(Path script) {
        ScriptRunner.Result r = ScriptRunner.run(List.of(ScriptRunner.root().resolve("jbang").toString(), "run", script.toString()),
                ScriptRunner.root(), Map.of("KIT_JBANG_PRINT_COMMAND", "1", "KIT_IGNORE_PATH_JBANG", "1",
                        // JBang's javac as well: a 300-line file compiles in 60 % of the CPU with C1 alone
                        "JAVA_TOOL_OPTIONS", String.join(" ", FAST_JVM)), BUILD_LIMIT);
        List<String> words = Arrays.stream(r.stdout().split("\0")).filter(w -> !w.isEmpty()).toList();
        if (r.exitCode() != 0 || words.size() < 2 || !r.stdout().contains("\0")) return Build.failed(r);
        List<String> command = new ArrayList<>();
        command.add(words.get(0));
        command.addAll(FAST_JVM);
        command.addAll(words.subList(1, words.size()));
        return new Build(new Program(command), null, r);
    }

    /** Runs the program with {@code args} in its own process, from the kit's root; see {@link ScriptRunner#run}. */
    public ScriptRunner.Result run(Duration timeout, Map<String, String> env, Consumer<Process> started, List<String> args) {
        List<String> all = new ArrayList<>(command);
        all.addAll(args);
        return ScriptRunner.run(all, ScriptRunner.root(), env, timeout, started);
    }
}
