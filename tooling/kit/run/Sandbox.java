package kit.run;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Where a student's program runs: code written by others, run by the teacher. Each run gets a fresh working folder
 * inside its submission's own folder (the only place it may write), a private HOME, an allow-listed environment, and
 * its whole process tree is killed when it ends, normally or not.
 *
 * <p>On Linux with bubblewrap ({@code bwrap}), the run also gets its own mount, PID, IPC and UTS namespaces: the
 * system (/usr, a few files of /etc), the JDK and the jars of its class path are read-only, /tmp is private and
 * empty, and nothing else of the machine is visible: not the teacher's home, not the kit, not the other submissions,
 * not the report folder. With socat, each run also has its own network namespace, where the job's broker is the only
 * thing it can reach (see {@link Relay}): not the other jobs' brokers, nor the teacher's services; without socat the
 * network is the host's, and the report says so. Each run has the limits of {@link Limits}. Elsewhere (macOS,
 * Windows, no bwrap), the isolation is partial, and the report says so.
 */
public final class Sandbox {

    public enum Kind { BUBBLEWRAP, PARTIAL, NONE }

    private final Kind kind;
    private final String why;
    private final Path bwrap;
    private final boolean userNamespace;
    /** A network namespace per run, its own broker reached through {@link Relay} and socat: see the class comment. */
    private final Path socat;
    /** The cgroups of each run (processes, memory), or none where they cannot be made. */
    private final Limits.Cgroups cgroups;
    /** prlimit (CPU seconds, file size) for the whole tree of a run, or null. */
    private final Path prlimit;

    private Sandbox(Kind kind, String why, Path bwrap, boolean userNamespace) {
        this(kind, why, bwrap, userNamespace, null, Limits.Cgroups.NONE, null);
    }

    private Sandbox(Kind kind, String why, Path bwrap, boolean userNamespace, Path socat, Limits.Cgroups cgroups, Path prlimit) {
        this.kind = kind;
        this.why = why;
        this.bwrap = bwrap;
        this.userNamespace = userNamespace;
        this.socat = socat;
        this.cgroups = cgroups;
        this.prlimit = prlimit;
    }

    /** Trusted code (the tour's own scripts): no wrapping, the inherited environment, from the kit's root. */
    public static Sandbox none() { return new Sandbox(Kind.NONE, "", null, false); }

    /** bubblewrap if it is there and works, the partial isolation otherwise; {@code useBwrap=false} forces the latter. */
    public static Sandbox detect(boolean useBwrap) {
        if (!useBwrap) return new Sandbox(Kind.PARTIAL, "bubblewrap écarté (--sans-bwrap)", null, false);
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return new Sandbox(Kind.PARTIAL, "bubblewrap n'existe que sous Linux (ici : " + System.getProperty("os.name") + ")", null, false);
        }
        Path found = kit.util.Folders.onPath(System.getenv("PATH"), List.of("bwrap"));
        if (found == null) return new Sandbox(Kind.PARTIAL, "bubblewrap (bwrap) absent : apt-get install bubblewrap", null, false);
        Path socat = kit.util.Folders.onPath(System.getenv("PATH"), List.of("socat"));
        Path prlimit = kit.util.Folders.onPath(System.getenv("PATH"), List.of("prlimit"));
        Limits.Cgroups cgroups = Limits.Cgroups.detect();
        List<Sandbox> candidates = new ArrayList<>();
        for (Limits.Cgroups cg : cgroups == Limits.Cgroups.NONE ? List.of(cgroups) : List.of(cgroups, Limits.Cgroups.NONE)) {
            for (Path net : socat == null ? new Path[] {null} : new Path[] {socat, null}) {
                for (boolean userns : new boolean[] {true, false}) {
                    candidates.add(new Sandbox(Kind.BUBBLEWRAP, "", found, userns, net, cg, prlimit));
                }
            }
        }
        for (Sandbox candidate : candidates) {
            Path probe = null;
            try {
                probe = Files.createTempDirectory("kit-sonde-");
                Files.createDirectories(probe.resolve("home"));
                Limits.Run limits = Limits.Run.start(candidate.cgroups);
                if (candidate.cgroups != Limits.Cgroups.NONE && limits == null) continue;
                List<String> command = Limits.outside(candidate.wrap(List.of("/usr/bin/true"), List.of(), probe, probe, null, List.of()),
                        limits, candidate.prlimit, Duration.ofSeconds(20));
                ScriptRunner.Result r;
                try {
                    r = ScriptRunner.run(command, probe, Map.of("PATH", "/usr/bin:/bin"), Duration.ofSeconds(20), p -> { }, false);
                } finally {
                    if (limits != null) limits.close();
                }
                if (r.exitCode() == 0) return candidate;
            } catch (IOException e) {
                // next
            } finally {
                if (probe != null) kit.util.Folders.deleteRecursively(probe);
            }
        }
        return new Sandbox(Kind.PARTIAL, "bubblewrap présent mais inutilisable ici (espaces de noms utilisateur interdits ?)", null, false);
    }

    public Kind kind() { return kind; }

    /** What the sandbox does not cover, said in every report: the build, done by the grader as the teacher. */
    static final String BUILD_OUTSIDE = "La construction JBang se fait hors du bac à sable, comme l'enseignant : elle télécharge "
            + "les //DEPS depuis Maven Central (//REPOS refusé) et compile (javac, sans processeur d'annotations), sans exécuter "
            + "le code du rendu ni de ses dépendances ; un //DEPS énorme peut remplir le cache de Maven, et un source fait pour "
            + "épuiser javac occupe le correcteur (la première construction d'un jeu de //DEPS est arrêtée au bout de 3 min ; "
            + "les suivantes tournent dans le JVM du correcteur, sans limite propre)";

    /** In French, for the report: which isolation the runs had. */
    public String describe() {
        return switch (kind) {
            case BUBBLEWRAP -> "bubblewrap : système, JDK et dépendances en lecture seule, /tmp privé, seul le dossier du rendu "
                    + "en écriture, processus isolés (PID, IPC) ; "
                    + (socat != null ? "réseau privé (seul le broker de ce rendu est joignable, par un relais)"
                            : "réseau de la machine (socat absent : apt-get install socat), les brokers des autres rendus sont joignables")
                    + " ; environnement filtré, HOME privé, arbre de processus tué à la fin de chaque lancement ; limites : "
                    + Limits.describe(cgroups, prlimit != null, true) + ". " + BUILD_OUTSIDE;
            case PARTIAL -> "partielle (" + why + ") : dossier de travail neuf, environnement filtré, HOME privé, arbre de "
                    + "processus tué à la fin de chaque lancement ; mais le programme peut lire (et écrire) tout ce que peut "
                    + "l'utilisateur qui lance la correction, et joindre les brokers des autres rendus ; limites : "
                    + Limits.describe(Limits.Cgroups.NONE, false, false);
            case NONE -> "aucune (scripts du kit)";
        };
    }

    /** A submission's folder: the runs' working folders, HOME and any file the grader hands it are made inside. */
    public Cell cell(Path folder) {
        return cell(folder, "");
    }

    /**
     * As above; {@code bootstrap} ({@code host:port,…}, the job's fault proxy): the only Kafka its runs may reach, where
     * each run has its own network namespace.
     */
    public Cell cell(Path folder, String bootstrap) {
        return cell(folder, bootstrap, 0);
    }

    /** As above; {@code databasePort} (0: none) is relayed too, byte for byte: the job's PostgreSQL. */
    public Cell cell(Path folder, String bootstrap, int databasePort) {
        try {
            Path abs = folder.toAbsolutePath().normalize();
            Files.createDirectories(abs.resolve("home"));
            List<Integer> ports = new ArrayList<>();
            for (String hostPort : bootstrap.split(",")) {
                int colon = hostPort.lastIndexOf(':');
                if (colon > 0) ports.add(Integer.parseInt(hostPort.substring(colon + 1).strip()));
            }
            if (databasePort > 0) ports.add(databasePort);
            return new Cell(abs, ports, databasePort > 0 ? Set.of(databasePort) : Set.of());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** One submission's folder and its runs. */
    public final class Cell {
        private final Path folder;
        private final List<Integer> ports;
        /** Of {@link #ports}, those relayed byte for byte (not Kafka). */
        private final Set<Integer> plain;
        private final AtomicInteger runs = new AtomicInteger();
        private volatile String limit;

        private Cell(Path folder, List<Integer> ports, Set<Integer> plain) {
            this.folder = folder;
            this.ports = List.copyOf(ports);
            this.plain = plain;
        }

        public Path folder() { return folder; }

        public Sandbox sandbox() { return Sandbox.this; }

        /** The first limit one of its runs hit (in French), or null. */
        public String limit() { return limit; }

        private ScriptRunner.Result noted(ScriptRunner.Result r) {
            if (r.limit() != null && limit == null) limit = r.limit();
            return r;
        }

        /**
         * Runs {@code command} (a JVM: its first word the java launcher) in a fresh folder of this cell. {@code readable}:
         * what it must read besides the system (the JDK, the jars and classes of its class path).
         */
        public ScriptRunner.Result run(List<String> command, List<Path> readable, Duration timeout, Consumer<Process> started) {
            Path runDir;
            try {
                runDir = Files.createDirectories(folder.resolve("lancements").resolve(String.format("%02d", runs.incrementAndGet())));
            } catch (IOException e) {
                return new ScriptRunner.Result(-1, "", "dossier de lancement impossible : " + e.getMessage(), false, false, Duration.ZERO);
            }
            String marker = UUID.randomUUID().toString();
            command = Limits.withHeap(command);
            Map<String, String> env = environment(command, marker, folder);
            try (Limits.DiskWatch disk = new Limits.DiskWatch(folder)) {
                Consumer<Process> watched = p -> {
                    disk.started(p);
                    started.accept(p);
                };
                ScriptRunner.Result r = runIn(command, runDir, env, timeout, watched, marker, readable);
                String full = disk.hit();
                return full != null ? noted(r.withLimit(full)) : r;
            }
        }

        private ScriptRunner.Result runIn(List<String> command, Path runDir, Map<String, String> env, Duration timeout,
                                          Consumer<Process> started, String marker, List<Path> readable) {
            if (kind != Kind.BUBBLEWRAP) {
                try {
                    return noted(Limits.explain(ScriptRunner.run(command, runDir, env, timeout, started, false), null));
                } finally {
                    killMarked(marker);
                }
            }
            Relay relay = null;
            Limits.Run limits = null;
            try {
                if (socat != null && !ports.isEmpty()) relay = Relay.open(ports, plain);
                limits = Limits.Run.start(cgroups);
                List<String> wrapped = wrap(command, readable, folder, runDir, relay, ports);
                wrapped = Limits.outside(wrapped, limits, prlimit, timeout);
                ScriptRunner.Result r = ScriptRunner.run(wrapped, runDir, env, timeout, started, false);
                killMarked(marker);
                if (relay != null && relay.refused() != null) {
                    return noted(r.withLimit("requête Kafka refusée par le correcteur (" + relay.refused()
                            + ") : un programme ne modifie pas le broker lui-même (configuration, quotas, ACL)"));
                }
                return noted(Limits.explain(r, limits));
            } catch (IOException e) {
                return new ScriptRunner.Result(-1, "", "relais réseau impossible : " + e.getMessage(), false, false, Duration.ZERO);
            } finally {
                killMarked(marker);
                if (relay != null) relay.close();
                if (limits != null) limits.close();
            }
        }
    }

    /** The environment of a run: nothing of the teacher's but the locale and time zone. */
    private static Map<String, String> environment(List<String> command, String marker, Path folder) {
        Map<String, String> env = new LinkedHashMap<>();
        String systemRoot = System.getenv("SystemRoot");
        if (JBang.isWindows() && systemRoot != null) {
            // without SystemRoot a Windows JVM cannot open a socket; TEMP and the profile stay in the cell
            env.put("SystemRoot", systemRoot);
            env.put("PATH", Path.of(systemRoot).resolve("System32") + File.pathSeparator + systemRoot);
            env.put("USERPROFILE", folder.resolve("home").toString());
            try {
                Path tmp = Files.createDirectories(folder.resolve("tmp"));
                env.put("TEMP", tmp.toString());
                env.put("TMP", tmp.toString());
            } catch (IOException ignored) {
                // the JVM's default then
            }
        } else {
            env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        }
        env.put("HOME", folder.resolve("home").toString());
        env.put("LANG", "C.UTF-8");
        for (String k : List.of("LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ")) {
            String v = System.getenv(k);
            if (v != null && v.matches("[A-Za-z0-9_.@/+:-]{1,64}")) env.put(k, v);
        }
        Path javaHome = javaHome(command.get(0));
        if (javaHome != null) env.put("JAVA_HOME", javaHome.toString());
        if (!JBang.isWindows()) env.put("TMPDIR", "/tmp");
        env.put(MARKER, marker);
        return env;
    }

    /** Each run's processes carry this variable: what outlives the run (even detached from it) is found and killed. */
    static final String MARKER = "KIT_LANCEMENT";

    private static Path javaHome(String java) {
        Path bin = Path.of(java).toAbsolutePath().getParent();
        return bin == null ? null : bin.getParent();
    }

    /** Where the relay's sockets are, inside a run. */
    private static final String RELAY_INSIDE = "/kit-relais";

    /** {@code bwrap … -- command}: see the class comment. */
    private List<String> wrap(List<String> command, List<Path> readable, Path writable, Path workDir, Relay relay, List<Integer> ports) {
        List<String> b = new ArrayList<>(List.of(bwrap.toString(), "--die-with-parent", "--new-session",
                "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"));
        if (socat != null) b.add("--unshare-net");
        if (userNamespace) b.addAll(List.of("--unshare-user", "--uid", "65534", "--gid", "65534"));
        b.addAll(List.of("--ro-bind", "/usr", "/usr"));
        for (String top : List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")) {
            Path p = Path.of(top);
            try {
                if (Files.isSymbolicLink(p)) b.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), top));
                else if (Files.isDirectory(p)) b.addAll(List.of("--ro-bind", top, top));
            } catch (IOException ignored) {
                // not there
            }
        }
        // of /etc, only what a JVM reads: name resolution (localhost), time zone, the JDK's own configuration
        Set<String> etc = new LinkedHashSet<>(List.of("/etc/hosts", "/etc/host.conf", "/etc/nsswitch.conf", "/etc/localtime",
                "/etc/timezone", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives"));
        try (Stream<Path> s = Files.list(Path.of("/etc"))) {
            s.filter(p -> p.getFileName().toString().startsWith("java")).forEach(p -> etc.add(p.toString()));
        } catch (IOException ignored) {
            // no /etc
        }
        for (String e : etc) if (Files.exists(Path.of(e))) b.addAll(List.of("--ro-bind", e, e));
        b.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--size", String.valueOf(Limits.TMPFS_BYTES), "--tmpfs", "/tmp"));
        Set<Path> ro = new LinkedHashSet<>();
        Path javaHome = javaHome(command.get(0));
        if (javaHome != null) ro.add(javaHome);
        ro.addAll(readable);
        for (Path r : ro) {
            Path abs = r.toAbsolutePath().normalize();
            if (abs.startsWith("/usr") || abs.startsWith(writable) || !Files.exists(abs)) continue;
            b.addAll(List.of("--ro-bind", abs.toString(), abs.toString()));
            try {
                Path real = abs.toRealPath();
                if (!real.equals(abs) && !real.startsWith("/usr")) b.addAll(List.of("--ro-bind", real.toString(), real.toString()));
            } catch (IOException ignored) {
                // bound as is
            }
        }
        b.addAll(List.of("--bind", writable.toString(), writable.toString()));
        // the run's own folder and HOME: size-limited, in memory (what a run leaves there is not read afterwards)
        for (Path small : List.of(workDir, writable.resolve("home"))) {
            if (!small.equals(writable)) b.addAll(List.of("--size", String.valueOf(Limits.TMPFS_BYTES), "--tmpfs", small.toString()));
        }
        if (relay != null) b.addAll(List.of("--ro-bind", relay.folder().toString(), RELAY_INSIDE));
        b.addAll(List.of("--chdir", workDir.toString(), "--"));
        if (relay != null) {
            // in the run's own network namespace, socat listens where the broker is advertised and relays to the
            // grader's Unix socket; the program starts once it listens
            StringBuilder sh = new StringBuilder();
            for (int port : ports) {
                sh.append(socat).append(" -lf /tmp/.relais.log TCP4-LISTEN:").append(port).append(",bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:")
                        .append(RELAY_INSIDE).append('/').append(port).append(" &\n");
                sh.append("i=0; until grep -qi ':").append(String.format("%04X", port)).append(" 00000000:0000 0A' /proc/net/tcp")
                        .append(" || [ $i -ge 100 ]; do sleep 0.01; i=$((i+1)); done\n");
            }
            sh.append("exec \"$@\"\n");
            b.addAll(List.of("/bin/sh", "-c", sh.toString(), "sh"));
        }
        b.addAll(command);
        return b;
    }

    /**
     * Kills whatever still runs with this run's marker, even detached from the run's process (setsid, a double fork):
     * on Linux, the variables of each process are in /proc. Elsewhere only the run's descendants are found (by
     * {@link ScriptRunner}).
     */
    static void killMarked(String marker) {
        Path proc = Path.of("/proc");
        if (!Files.isDirectory(proc)) return;
        byte[] wanted = (MARKER + "=" + marker).getBytes(StandardCharsets.UTF_8);
        long self = ProcessHandle.current().pid();
        for (int round = 0; round < 3; round++) {
            List<ProcessHandle> found = new ArrayList<>();
            try (Stream<Path> s = Files.list(proc)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+")).forEach(n -> {
                    long pid = Long.parseLong(n);
                    if (pid == self) return;
                    try {
                        byte[] env = Files.readAllBytes(proc.resolve(n).resolve("environ"));
                        if (contains(env, wanted)) ProcessHandle.of(pid).ifPresent(found::add);
                    } catch (IOException | RuntimeException ignored) {
                        // gone, or not ours
                    }
                });
            } catch (IOException e) {
                return;
            }
            if (found.isEmpty()) return;
            found.forEach(ProcessHandle::destroyForcibly);
            for (ProcessHandle h : found) {
                try { h.onExit().get(2, java.util.concurrent.TimeUnit.SECONDS); } catch (Exception ignored) { }
            }
        }
    }

    /** {@code wanted} as a whole NUL-separated entry of {@code env}. */
    private static boolean contains(byte[] env, byte[] wanted) {
        int start = 0;
        for (int i = 0; i <= env.length; i++) {
            if (i == env.length || env[i] == 0) {
                if (i - start == wanted.length && java.util.Arrays.equals(env, start, i, wanted, 0, wanted.length)) return true;
                start = i + 1;
            }
        }
        return false;
    }
}
