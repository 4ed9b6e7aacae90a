package kit.lab;

import kit.run.ScriptRunner;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The tests' ways to steer a lab: ./jbang fault as users run it, and the control API over real HTTP. */
final class LabCalls {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private LabCalls() { }

    /** {@code ./jbang fault ARGS --control URL} (a subprocess, through the launcher), against this lab. */
    static ScriptRunner.Result fault(Lab lab, Duration timeout, String... args) {
        List<String> all = new ArrayList<>(List.of("fault"));
        all.addAll(List.of(args));
        all.addAll(List.of("--control", lab.controlUrl()));
        return ScriptRunner.jbang(timeout, all.toArray(String[]::new));
    }

    /** A JSON POST to {@code base + path}, with these extra headers (name, value, name, value…). */
    static HttpResponse<String> post(String base, String path, String json, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
        if (headers.length > 0) b.headers(headers);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** A GET of {@code base + path}, with these extra headers (name, value, name, value…). */
    static HttpResponse<String> get(String base, String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60)).GET();
        if (headers.length > 0) b.headers(headers);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
