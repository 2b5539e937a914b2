package io.siphon.cli.image;

import io.siphon.cli.CliException;
import io.siphon.cli.view.ImageInfoView;
import io.siphon.cli.view.QemuPrettyPrinter;
import io.siphon.format.Image;
import io.siphon.format.ImageChain;
import io.siphon.format.OpenOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code siphon image info}: an image's format, sizes and backing link, as qemu-img info. */
@Command(
        name = "info",
        description = "Show FILE's format, virtual and disk size, cluster size and backing file.",
        exitCodeOnInvalidInput = 1)
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ImageFormatOption format;

    @Mixin
    OutputOption output;

    @Mixin
    ForceShareOption share;

    @Mixin
    RemoteBackingOptions remote;

    @Option(names = "--backing-chain", description = "Show every image of the backing chain, top first.")
    boolean backingChain;

    @Parameters(paramLabel = "FILE", description = "The image file.")
    String file;

    @Override
    public Integer call() throws IOException, CliException {
        OpenOptions options = share.readOnly().withRemote(remote.policy(file));
        List<ImageInfoView> views = new ArrayList<>();
        if (backingChain) {
            try (ImageChain chain = ImageChain.open(file, format.format, options)) {
                List<String> names = ChainNames.of(chain, file);
                for (int i = 0; i < names.size(); i++) {
                    views.add(ImageInfoView.of(chain.images().get(i).info(), names.get(i)));
                }
            }
        } else {
            try (Image image = ImageChain.openOne(file, format.format, options)) {
                views.add(ImageInfoView.of(image.info(), file));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            out.println(QemuPrettyPrinter.pretty(
                    backingChain
                            ? views.stream().map(ImageInfoView::json).toList()
                            : views.getFirst().json()));
        } else {
            out.print(String.join("\n", views.stream().map(ImageInfoView::human).toList()));
        }
        return 0;
    }
}
