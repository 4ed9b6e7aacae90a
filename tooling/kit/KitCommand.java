package kit;

import kit.bench.BenchCommand;
import kit.broker.KafkaLogs;
import kit.lab.BrokerCommand;
import kit.lab.FaultCommand;
import kit.grade.GradeCommand;
import kit.notebook.KernelCommand;
import kit.tour.TourCommand;

//DEPS info.picocli:picocli:4.7.7

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The kit's tooling commands, one subcommand each. */
@Command(name = "kit", mixinStandardHelpOptions = true, version = "kafka-semantiques 1.0 (Kafka 4.4.0)",
        description = "Outillage du kit « sémantiques de livraison Kafka ».",
        subcommands = {BrokerCommand.class, FaultCommand.class, TourCommand.class, GradeCommand.class, BenchCommand.class, KernelCommand.class})
public final class KitCommand implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Runs the command line with French-friendly error handling; returns the exit code. */
    public static int run(String... args) {
        // before any Kafka client logs: java.util.logging's default would print their INFO lines on the console
        KafkaLogs.consoleOnly();
        CommandLine cl = new CommandLine(new KitCommand());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("Erreur : " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return 1;
        });
        return cl.execute(args);
    }
}
