package kit.run;

import kit.util.Folders;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * JBang itself, started without any shell, so that the tooling works the same on Windows: the jar the ./jbang launcher
 * fetched, run by this JVM's java, or else a jbang installed on PATH (winget, scoop, choco, sdkman…).
 */
public final class JBang {

    /** The JBang the ./jbang launcher fetches (KIT_JBANG_VERSION changes both); VersionsTest keeps it the pom's. */
    public static final String VERSION = "0.132.1";

    /** Said when there is no JBang at all: the tooling was then started some other way than by JBang. */
    static final String MISSING = "JBang introuvable : ni jbang-cli-" + version() + "-all.jar dans le cache du kit ou dans ~/.m2, "
            + "ni jbang dans le PATH. Lancez une fois ./jbang (Linux, macOS) ou installez JBang (winget, scoop, choco).";

    private JBang() { }

    static String version() {
        String v = System.getenv("KIT_JBANG_VERSION");
        return v == null || v.isBlank() ? VERSION : v.strip();
    }

    /** The kit's cache, as the ./jbang launcher's: $KIT_JBANG_CACHE, or $XDG_CACHE_HOME (~/.cache)/kafka-semantiques. */
    static Path cache() {
        return cache(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    private static Path cache(Map<String, String> env, Path home) {
        String kit = env.get("KIT_JBANG_CACHE");
        if (kit != null && !kit.isBlank()) return Path.of(kit);
        String xdg = env.get("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : home.resolve(".cache")).resolve("kafka-semantiques");
    }

    /** The words that start JBang here ({@code java … dev.jbang.Main} or a jbang on PATH), or null if there is none. */
    public static List<String> command() {
        Path launcher;
        try {
            launcher = ScriptRunner.root().resolve("jbang");
        } catch (IllegalStateException e) {
            launcher = null;
        }
        return command(System.getenv(), Path.of(System.getProperty("user.home")), isWindows(), launcher);
    }

    /**
     * As the ./jbang launcher finds JBang: the kit's cache, then the local Maven repository; failing both, a {@code jbang}
     * ({@code jbang.cmd} on Windows) on PATH, but never the kit's own launcher (a bash script).
     */
    static List<String> command(Map<String, String> env, Path home, boolean windows, Path kitLauncher) {
        String v = version();
        String name = "jbang-cli-" + v + "-all.jar";
        for (Path jar : List.of(cache(env, home).resolve(name),
                home.resolve(".m2").resolve("repository").resolve("dev").resolve("jbang").resolve("jbang-cli").resolve(v).resolve(name))) {
            if (isNonEmptyFile(jar)) {
                List<String> words = new ArrayList<>(List.of(currentJava().toString()));
                words.addAll(startupOptions(env, jar.getParent()));
                words.addAll(List.of("-classpath", jar.toString(), "dev.jbang.Main"));
                return words;
            }
        }
        Path onPath = Folders.onPath(env.get("PATH"), windows ? List.of("jbang.cmd") : List.of("jbang"));
        if (onPath != null && !sameFile(onPath, kitLauncher)) return List.of(onPath.toString());
        return null;
    }

    /**
     * The launcher's start-up for JBang itself: $JBANG_JAVA_OPTIONS, or C1 only, the serial GC and the class-data archive
     * the launcher left in the cache for this Java version (used only if it is there, never written from here).
     */
    private static List<String> startupOptions(Map<String, String> env, Path cache) {
        String own = env.get("JBANG_JAVA_OPTIONS");
        if (own != null && !own.isBlank()) return Arrays.asList(own.strip().split("\\s+"));
        List<String> options = new ArrayList<>(Program.FAST_JVM);
        Path jsa = cache.resolve("jbang-cli-" + version() + "-java" + Runtime.version().feature() + ".jsa");
        if (isNonEmptyFile(jsa)) options.addAll(List.of("-Xshare:auto", "-XX:SharedArchiveFile=" + jsa));
        options.addAll(List.of("-Xlog:disable", "-Xlog:all=error:stderr"));
        return options;
    }

    /** Runs {@code jbang args…} from the kit's root, with the inherited environment plus {@code env}. */
    public static ScriptRunner.Result run(Duration timeout, Map<String, String> env, String... args) {
        List<String> jbang = command();
        if (jbang == null) return new ScriptRunner.Result(-1, "", MISSING, false, false, Duration.ZERO);
        List<String> words = new ArrayList<>(jbang);
        words.addAll(Arrays.asList(args));
        return ScriptRunner.run(words, ScriptRunner.root(), env, timeout);
    }

    /** The java launcher of the JVM running this code. */
    public static Path currentJava() {
        return java(Path.of(System.getProperty("java.home")));
    }

    /** The java launcher of a JDK folder: bin/java, bin\java.exe on Windows. */
    public static Path java(Path javaHome) {
        Path bin = javaHome.resolve("bin");
        return isWindows() ? bin.resolve("java.exe") : bin.resolve("java");
    }

    public static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    }

    private static boolean isNonEmptyFile(Path p) {
        try {
            return Files.isRegularFile(p) && Files.size(p) > 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean sameFile(Path a, Path b) {
        if (b == null) return false;
        try {
            return Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }
}
