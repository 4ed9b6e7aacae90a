package kit.run;

import kit.util.Folders;

//DEPS com.google.code.gson:gson:2.13.2

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * A script built once, then run many times with the very java command JBang would exec, without paying JBang's own
 * start-up on every run. The tour and the grader run each script 1 to 6 times; a crash is still the death of a real
 * process. The build is JBang's, or, for the next files with //DEPS JBang has already resolved, javac's in this JVM.
 */
public final class Program {

    /**
     * Start-up flags for the many short runs: C1 only and the serial GC. Short-lived JVMs spend most of their CPU in
     * the C2 compiler and GC threads; on 2 cores that CPU is taken from the other runs and from the broker.
     */
    public static final List<String> FAST_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

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
    /** The resolved //DEPS of a JBang build, once its class path is reordered (null otherwise). */
    private List<String> deps;

    private Program(List<String> command) { this.command = List.copyOf(withQuietJvm(command)); }

    /** The option that lets Kafka use sun.misc.Unsafe without a warning; only Java 23+ knows it. */
    static final String UNSAFE_ALLOWED = "--sun-misc-unsafe-memory-access=allow";

    /**
     * The flags that keep a JVM's own warnings out of what the student reads: Java 23+ writes « WARNING: A terminally
     * deprecated method in sun.misc.Unsafe has been called » on stderr when Kafka's code (the broker's index files,
     * the clients' shaded protobuf) calls it. Java 17 to 22 refuse the option and would not start: none for them.
     */
    public static List<String> quietJvm(String javaBin) {
        return javaFeature(javaBin) >= 23 ? List.of(UNSAFE_ALLOWED) : List.of();
    }

    /** A java command with {@link #quietJvm} right after the executable, unless it already has them. */
    private static List<String> withQuietJvm(List<String> command) {
        List<String> flags = quietJvm(command.get(0));
        if (flags.isEmpty() || command.containsAll(flags)) return command;
        List<String> all = new ArrayList<>(command.subList(0, 1));
        all.addAll(flags);
        all.addAll(command.subList(1, command.size()));
        return all;
    }

    /** The feature version (17, 21, 25…) of a java binary, from its JDK's release file; this JVM's own if it is this one; 0 if unknown. */
    static int javaFeature(String javaBin) {
        try {
            Path home = Path.of(javaBin).toRealPath().getParent().getParent();
            if (home.equals(Path.of(System.getProperty("java.home")).toRealPath())) return Runtime.version().feature();
            for (String line : Files.readAllLines(home.resolve("release"))) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("JAVA_VERSION=\"(?:1\\.)?(\\d+).*").matcher(line);
                if (m.matches()) return Integer.parseInt(m.group(1));
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    /** What building gave: the program, or why there is none (compiler errors), with the build's own output. */
    public record Build(Program program, String problem, ScriptRunner.Result result) {
        public boolean ok() { return program != null; }

        static final String NO_MAIN = "pas de méthode main : la classe doit avoir public static void main(String... args)";

        /** Why JBang could not build it, in the words a student can act on: javac's errors first, without our folders. */
        static Build failed(ScriptRunner.Result result) {
            if (result.timedOut()) return new Build(null, "la compilation n'a pas fini en " + result.elapsed().toSeconds() + " s", result);
            List<String> lines = (result.stderr() + "\n" + result.stdout()).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("Picked up JAVA_TOOL_OPTIONS") && !l.contains("Run with --verbose")).toList();
            List<String> javac = lines.stream().filter(l -> l.matches(".*\\.java:\\d+: (error|erreur).*"))
                    .map(l -> l.replaceFirst("^.*?[/\\\\](?=[^/\\\\]+\\.java:\\d+: )", "")).limit(5).toList();
            String why;
            if (!javac.isEmpty()) why = "ne compile pas : " + String.join(" | ", javac);
            else if (lines.stream().anyMatch(l -> l.contains("no main class"))) why = NO_MAIN;
            else why = "JBang n'a pas pu le construire (code " + result.exitCode() + ") : " + lines.stream()
                    .filter(l -> l.startsWith("[jbang] [ERROR]")).map(l -> l.substring("[jbang] [ERROR]".length()).strip())
                    .findFirst().orElse(lines.isEmpty() ? "" : lines.get(lines.size() - 1));
            return new Build(null, why, result);
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
     * Builds a script. The first of each set of //DEPS goes through JBang, which resolves them; the next ones with the
     * same set are compiled here, by the JDK's compiler already warm in this JVM, against the same jars (a grader's
     * class has hundreds of files with the exercises' //DEPS: 0.2 s of CPU each instead of 3). Anything else JBang
     * would act on (//SOURCES, //JAVA_OPTIONS…), or a compile error, goes through JBang, so its messages are JBang's.
     */
    private static Build build(Path script) {
        String directives = directives(script);
        if (directives == null) return jbangBuild(script);
        while (true) {
            CompletableFuture<List<String>> mine = new CompletableFuture<>();
            CompletableFuture<List<String>> first = RESOLVING.putIfAbsent(directives, mine);
            if (first == null) {
                // this build resolves the set; the others with the same //DEPS wait for it instead of starting JBang too
                List<String> resolved = null;
                try {
                    Build built = jbangBuild(script);
                    if (built.ok()) resolved = built.program().deps;
                    return built;
                } finally {
                    // a failed build (a compile error of its own) resolves nothing: the next one in line tries
                    if (resolved == null) RESOLVING.remove(directives, mine);
                    mine.complete(resolved);
                }
            }
            List<String> deps = first.join();
            if (deps == null) continue;
            Build here = compileHere(script, deps);
            return here != null ? here : jbangBuild(script);
        }
    }

    /**
     * //DEPS (and //JAVA) sets resolved by JBang in this JVM, or being resolved: the jars, or null when that build
     * failed. A grader starts its jobs together; without this, each would start JBang for the same set.
     */
    private static final Map<String, CompletableFuture<List<String>>> RESOLVING = new ConcurrentHashMap<>();

    /** The file's //DEPS and //JAVA lines, sorted: a key for their resolved jars; null if it has other JBang directives. */
    private static String directives(Path script) {
        List<String> lines;
        try {
            lines = Files.readAllLines(script).stream().map(String::strip).filter(l -> l.matches("//[A-Z_]+(\\s.*)?")).sorted().toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
        return lines.stream().allMatch(l -> l.startsWith("//DEPS ") || l.startsWith("//JAVA ")) ? String.join("\n", lines) : null;
    }

    /** Compiles with javax.tools into a private folder; null (JBang will build it) if that fails for any reason. */
    private static Build compileHere(Path script, List<String> deps) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) return null;
        try {
            Path classes = Files.createDirectories(Compiled.ROOT.resolve(UUID.randomUUID().toString()));
            String classpath = String.join(File.pathSeparator, deps);
            // JBang's options, plus the encoding the grader has already checked
            // -proc:none: no annotation processor of a //DEPS jar runs here, in the grader's JVM, as the teacher
            int rc = javac.run(null, OutputStream.nullOutputStream(), OutputStream.nullOutputStream(), "-g", "-parameters",
                    "-proc:none", "-encoding", "UTF-8", "-cp", classpath, "-d", classes.toString(), script.toString());
            String main = script.getFileName().toString().replaceFirst("\\.java$", "");
            if (rc != 0 || !hasMain(classes, deps, main)) return null;
            String java = JBang.currentJava().toString();
            return new Build(launch(java, List.of(), deps, classes, main), null, new ScriptRunner.Result(0, "", "", false, false, Duration.ZERO));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Does the compiled class have JBang's entry point? Loaded without being initialised: none of its code runs. */
    private static boolean hasMain(Path classes, List<String> deps, String name) {
        if (!Files.exists(classes.resolve(name + ".class"))) return false;
        List<URL> urls = new ArrayList<>();
        try {
            urls.add(classes.toUri().toURL());
            for (String d : deps) urls.add(Path.of(d).toUri().toURL());
        } catch (IOException e) {
            return false;
        }
        try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), null)) {
            Method main = Class.forName(name, false, loader).getMethod("main", String[].class);
            return Modifier.isStatic(main.getModifiers());
        } catch (ReflectiveOperationException | LinkageError | IOException e) {
            return false;
        }
    }

    /**
     * AppCDS: one class-data archive per //DEPS set and JDK, made once (and kept in the kit's cache from one
     * correction to the next) from the JDK's own class list and every class of the //DEPS jars, without running any
     * program. A run maps the classes already parsed and verified instead of loading them from the jars: the many
     * short JVMs of a correction spend less CPU starting. KIT_CDS=0 turns it off.
     */
    static final class Cds {
        private static final Map<String, CompletableFuture<Path>> ARCHIVES = new ConcurrentHashMap<>();

        /** The JVM flags that use the archive of these //DEPS, or none if there is none (or it could not be made). */
        static List<String> flags(String javaBin, List<String> deps) {
            if ("0".equals(System.getenv("KIT_CDS")) || deps.isEmpty()) return List.of();
            Path archive;
            try {
                archive = ARCHIVES.computeIfAbsent(key(javaBin, deps), k -> CompletableFuture.supplyAsync(() -> dump(javaBin, deps, k), BUILDERS))
                        .join();
            } catch (RuntimeException e) {
                return List.of();
            }
            if (archive == null) return List.of();
            // a stale archive is ignored silently (-Xshare:auto), and the JVM's own messages stay off stdout
            return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:disable", "-Xlog:all=error:stderr");
        }

        private static String key(String javaBin, List<String> deps) {
            StringBuilder k = new StringBuilder();
            for (String f : concat(javaBin, deps)) {
                Path p = Path.of(f);
                try {
                    k.append(p.toRealPath()).append('|').append(Files.size(p)).append('|').append(Files.getLastModifiedTime(p).toMillis()).append('\n');
                } catch (IOException e) {
                    k.append(f).append('\n');
                }
            }
            try {
                byte[] h = java.security.MessageDigest.getInstance("SHA-256").digest(k.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                return java.util.HexFormat.of().formatHex(h, 0, 12);
            } catch (java.security.NoSuchAlgorithmException e) {
                return Integer.toHexString(k.toString().hashCode());
            }
        }

        private static List<String> concat(String javaBin, List<String> deps) {
            List<String> all = new ArrayList<>(List.of(javaBin));
            all.addAll(deps);
            return all;
        }

        private static Path dump(String javaBin, List<String> deps, String key) {
            try {
                Path dir = Files.createDirectories(JBang.cache().resolve("cds"));
                Path archive = dir.resolve(key + ".jsa");
                if (Files.isRegularFile(archive) && Files.size(archive) > 0) return archive;
                Path list = Files.createTempFile(dir, key, ".classes");
                List<String> classes = new ArrayList<>();
                Path jdkList = Path.of(javaBin).toAbsolutePath().getParent().getParent().resolve("lib").resolve("classlist");
                if (Files.isRegularFile(jdkList)) {
                    Files.readAllLines(jdkList).stream().filter(l -> !l.startsWith("#") && !l.startsWith("@") && !l.isBlank()).forEach(classes::add);
                }
                for (String jar : deps) {
                    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar)) {
                        zip.stream().map(java.util.zip.ZipEntry::getName)
                                .filter(n -> n.endsWith(".class") && !n.startsWith("META-INF/") && !n.endsWith("module-info.class"))
                                .forEach(n -> classes.add(n.substring(0, n.length() - ".class".length())));
                    }
                }
                Files.write(list, classes);
                Path tmp = dir.resolve(key + "." + ProcessHandle.current().pid() + ".tmp");
                ScriptRunner.Result r = ScriptRunner.run(List.of(javaBin, "-Xshare:dump", "-XX:SharedClassListFile=" + list,
                        "-XX:SharedArchiveFile=" + tmp, "-Xlog:disable", "-Xlog:all=error:stderr", "-classpath", String.join(File.pathSeparator, deps)),
                        dir, Map.of(), BUILD_LIMIT, p -> { }, false);
                Files.deleteIfExists(list);
                if (r.exitCode() != 0 || !Files.isRegularFile(tmp)) {
                    Files.deleteIfExists(tmp);
                    return null;
                }
                Files.move(tmp, archive, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                return archive;
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }
    }

    /** Where {@link #compileHere} writes, made on first use and removed when this JVM exits. */
    private static final class Compiled {
        static final Path ROOT = create();

        private static Path create() {
            try {
                Path root = Files.createTempDirectory("kit-programmes-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> Folders.deleteRecursively(root)));
                return root;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    /**
     * JBang builds the script ({@code jbang build}, compiler errors on stderr), then describes it ({@code jbang info tools}:
     * JSON with the resolved //DEPS, the jar, the main class, the JDK and the run options), and the java command is made
     * from that, as JBang makes its own. JBang is started by this JVM's java, or is the jbang on PATH: never a shell.
     */
    private static Build jbangBuild(Path script) {
        return jbangBuild(script, buildEnvironment());
    }

    static Build jbangBuild(Path script, Map<String, String> environment) {
        List<String> jbang = JBang.command();
        if (jbang == null) return new Build(null, JBang.MISSING, new ScriptRunner.Result(-1, "", JBang.MISSING, false, false, Duration.ZERO));
        Map<String, String> env = new java.util.LinkedHashMap<>(environment);
        // JBang's javac as well: a 300-line file compiles in 60 % of the CPU with C1 alone
        env.put("JAVA_TOOL_OPTIONS", String.join(" ", FAST_JVM));
        // -proc:none: no annotation processor of a //DEPS jar runs while building (a build runs as the teacher)
        ScriptRunner.Result built = ScriptRunner.run(concat(jbang, "build", "--compile-option=-proc:none", script.toString()),
                ScriptRunner.root(), env, BUILD_LIMIT, p -> { }, false);
        if (built.exitCode() != 0) return Build.failed(built);
        ScriptRunner.Result described = ScriptRunner.run(concat(jbang, "info", "tools", script.toString()),
                ScriptRunner.root(), env, BUILD_LIMIT, p -> { }, false);
        JsonObject info;
        try {
            info = described.exitCode() == 0 ? JsonParser.parseString(described.stdout()).getAsJsonObject() : null;
        } catch (RuntimeException e) {
            info = null;
        }
        if (info == null || !info.has("applicationJar")) return Build.failed(described);
        if (!info.has("mainClass")) return new Build(null, Build.NO_MAIN, built);
        Path own = Path.of(info.get("applicationJar").getAsString());
        if (!Files.isRegularFile(own)) return Build.failed(built);
        List<String> deps = strings(info, "resolvedDependencies");
        String java = (info.has("availableJdkPath") ? JBang.java(Path.of(info.get("availableJdkPath").getAsString()))
                : JBang.currentJava()).toString();
        List<String> options = new ArrayList<>();
        if (previewed(script)) options.add("--enable-preview");
        options.addAll(strings(info, "runtimeOptions"));
        return new Build(launch(java, options, deps, own, info.get("mainClass").getAsString()), null, built);
    }

    /** {@code java FAST_JVM CDS options -classpath DEPS:OWN main}: the //DEPS first, the class path the archive was made with. */
    private static Program launch(String java, List<String> options, List<String> deps, Path own, String main) {
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(FAST_JVM);
        command.addAll(Cds.flags(java, deps));
        command.addAll(options);
        List<String> classpath = new ArrayList<>(deps);
        classpath.add(own.toString());
        command.addAll(List.of("-classpath", String.join(File.pathSeparator, classpath), main));
        Program program = new Program(command);
        program.deps = List.copyOf(deps);
        return program;
    }

    private static List<String> concat(List<String> words, String... more) {
        List<String> all = new ArrayList<>(words);
        all.addAll(Arrays.asList(more));
        return all;
    }

    private static List<String> strings(JsonObject info, String field) {
        if (!info.has(field) || !info.get(field).isJsonArray()) return List.of();
        List<String> values = new ArrayList<>();
        for (JsonElement e : info.getAsJsonArray(field)) values.add(e.getAsString());
        return values;
    }

    /** A //PREVIEW line: JBang runs the program with --enable-preview (its JSON does not say so). */
    private static boolean previewed(Path script) {
        try {
            return Files.readAllLines(script).stream().map(String::strip).anyMatch(l -> l.equals("//PREVIEW") || l.startsWith("//PREVIEW "));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /**
     * What JBang needs to build, and nothing else of this JVM's environment (no CI token reaches a build): the path,
     * home and JDK, the locale, proxies for the downloads of //DEPS, JBang's and the kit's own settings.
     */
    static Map<String, String> buildEnvironment() {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        boolean windows = JBang.isWindows();
        System.getenv().forEach((k, v) -> {
            // Windows spells its variables as it likes (Path, SystemRoot) and needs a few more to start a JVM or a .cmd
            String name = windows ? k.toUpperCase(java.util.Locale.ROOT) : k;
            if (List.of("PATH", "HOME", "JAVA_HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "XDG_CACHE_HOME", "USER",
                    "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "MAVEN_OPTS").contains(name)
                    || windows && List.of("SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE", "APPDATA", "LOCALAPPDATA",
                            "TEMP", "TMP", "PROGRAMDATA").contains(name)
                    || name.startsWith("JBANG_") || name.startsWith("KIT_")) env.put(k, v);
        });
        // JBang builds with the JDK running the kit unless told otherwise
        Path home = Path.of(System.getProperty("java.home"));
        if (env.keySet().stream().noneMatch(k -> k.equalsIgnoreCase("JAVA_HOME")) && Files.isDirectory(home.resolve("bin"))
                && Files.exists(home.resolve("bin").resolve(windows ? "javac.exe" : "javac"))) env.put("JAVA_HOME", home.toString());
        return env;
    }

    /** The JDK, jars and class folders this program reads: what a sandbox must let it see. */
    public List<Path> readable() {
        List<Path> paths = new ArrayList<>();
        Path java = Path.of(command.get(0));
        if (java.getParent() != null && java.getParent().getParent() != null) paths.add(java.getParent().getParent());
        int i = command.indexOf("-classpath");
        if (i >= 0 && i + 1 < command.size()) {
            for (String entry : command.get(i + 1).split(File.pathSeparator)) if (!entry.isBlank()) paths.add(Path.of(entry));
        }
        for (String word : command) {
            if (word.startsWith("-XX:SharedArchiveFile=")) paths.add(Path.of(word.substring("-XX:SharedArchiveFile=".length())));
            if (word.startsWith("-javaagent:")) paths.add(Path.of(word.substring("-javaagent:".length()).split("=", 2)[0]));
        }
        return paths;
    }

    /** Runs the program with {@code args} in a sandbox's cell: see {@link Sandbox.Cell#run}. */
    public ScriptRunner.Result run(Sandbox.Cell cell, Duration timeout, Consumer<Process> started, List<String> args) {
        List<String> all = new ArrayList<>(command);
        all.addAll(args);
        return cell.run(all, readable(), timeout, started);
    }

    /** The command that runs the program with {@code args}, for a caller that starts and watches the process itself. */
    public List<String> command(List<String> args) {
        List<String> all = new ArrayList<>(command);
        all.addAll(args);
        return all;
    }

    /** Runs the program with {@code args} in its own process, from the kit's root; see {@link ScriptRunner#run}. */
    public ScriptRunner.Result run(Duration timeout, Map<String, String> env, Consumer<Process> started, List<String> args) {
        List<String> all = new ArrayList<>(command);
        all.addAll(args);
        return ScriptRunner.run(all, ScriptRunner.root(), env, timeout, started);
    }
}
