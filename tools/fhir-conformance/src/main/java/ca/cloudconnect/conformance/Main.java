package ca.cloudconnect.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.StrictErrorHandler;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.ServiceRequest;

/**
 * What off-the-shelf FHIR clients make of referral-intake, with HAPI FHIR:
 *
 * <ul>
 *   <li>{@code validate <file>...}: each file (a FHIR R4 resource as JSON) through HAPI's
 *       FhirInstanceValidator against the R4 base definitions, offline. Prints one JSON line per
 *       issue; exits 1 when any issue is an error or fatal.
 *   <li>{@code page <fhir-base> <bearer-token> <count> [max-pages]}: HAPI's generic client
 *       searches ServiceRequest with {@code _count} and follows {@code next} to the end with a
 *       strict parser (an unknown element fails). Prints one JSON line with the pages and the ids
 *       in the order received.
 * </ul>
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length >= 2 && args[0].equals("validate")) {
      System.exit(validate(List.of(args).subList(1, args.length)));
    } else if (args.length >= 4 && args[0].equals("page")) {
      int maxPages = args.length >= 5 ? Integer.parseInt(args[4]) : 1000;
      System.exit(page(args[1], args[2], Integer.parseInt(args[3]), maxPages));
    } else {
      System.err.println(
          "usage: validate <file>... | page <fhir-base> <bearer-token> <count> [max-pages]");
      System.exit(2);
    }
  }

  private static int validate(List<String> files) throws Exception {
    FhirContext ctx = FhirContext.forR4();
    ValidationSupportChain chain =
        new ValidationSupportChain(
            new DefaultProfileValidationSupport(ctx),
            new CommonCodeSystemsTerminologyService(ctx),
            new InMemoryTerminologyServerValidationSupport(ctx),
            new SnapshotGeneratingValidationSupport(ctx));
    FhirInstanceValidator module = new FhirInstanceValidator(chain);
    // Offline: a code system or profile we cannot fetch is reported (warning), not looked up. The
    // Ontario eReferral profiles a sender names in meta.profile are not loaded: base R4 applies.
    module.setNoTerminologyChecks(false);
    module.setAnyExtensionsAllowed(true);
    module.setErrorForUnknownProfiles(false);
    FhirValidator validator = ctx.newValidator().registerValidatorModule(module);
    int errors = 0;
    for (String file : files) {
      String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
      ValidationResult result = validator.validateWithResult(text);
      for (SingleValidationMessage m : result.getMessages()) {
        boolean error =
            m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL;
        if (error) errors++;
        System.out.println(
            "{\"file\":"
                + json(Path.of(file).getFileName().toString())
                + ",\"severity\":"
                + json(m.getSeverity().getCode())
                + ",\"location\":"
                + json(String.valueOf(m.getLocationString()))
                + ",\"messageId\":"
                + json(String.valueOf(m.getMessageId()))
                + ",\"message\":"
                + json(m.getMessage())
                + "}");
      }
    }
    System.out.println(
        "{\"validated\":" + files.size() + ",\"errors\":" + errors + ",\"validator\":\"HAPI FHIR "
            + ca.uhn.fhir.util.VersionUtil.getVersion() + "\"}");
    return errors > 0 ? 1 : 0;
  }

  private static int page(String base, String token, int count, int maxPages) {
    FhirContext ctx = FhirContext.forR4();
    ctx.setParserErrorHandler(new StrictErrorHandler());
    ctx.getRestfulClientFactory().setConnectTimeout(10000);
    ctx.getRestfulClientFactory().setSocketTimeout(30000);
    IGenericClient client = ctx.newRestfulGenericClient(base);
    client.registerInterceptor(new BearerTokenAuthInterceptor(token));
    Bundle bundle =
        client
            .search()
            .forResource(ServiceRequest.class)
            .count(count)
            .returnBundle(Bundle.class)
            .execute();
    List<String> ids = new ArrayList<>();
    Set<String> fullUrls = new LinkedHashSet<>();
    int pages = 0;
    int duplicates = 0;
    int relativeFullUrls = 0;
    while (bundle != null && pages < maxPages) {
      pages++;
      for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
        String fullUrl = entry.getFullUrl();
        if (fullUrl == null || !fullUrl.matches("^https?://.*")) relativeFullUrls++;
        if (!fullUrls.add(fullUrl)) duplicates++;
        if (entry.getResource() instanceof ServiceRequest sr) ids.add(sr.getIdElement().getIdPart());
      }
      bundle = bundle.getLink(Bundle.LINK_NEXT) == null ? null : client.loadPage().next(bundle).execute();
    }
    StringBuilder out = new StringBuilder("{\"client\":\"HAPI FHIR ");
    out.append(ca.uhn.fhir.util.VersionUtil.getVersion()).append(" generic client\",\"pages\":").append(pages);
    out.append(",\"duplicates\":").append(duplicates).append(",\"relativeFullUrls\":").append(relativeFullUrls);
    out.append(",\"complete\":").append(bundle == null).append(",\"ids\":[");
    for (int i = 0; i < ids.size(); i++) out.append(i > 0 ? "," : "").append(json(ids.get(i)));
    System.out.println(out.append("]}"));
    return 0;
  }

  private static String json(String value) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    return out.append('"').toString();
  }
}
