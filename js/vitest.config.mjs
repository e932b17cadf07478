// vitest 3 in browser mode, driving Debian's Chromium through the playwright provider.
// Playwright never downloads a browser here: the executable is the system one.
import { defineConfig } from "vitest/config";

const chromium = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export default defineConfig({
  test: {
    include: ["test/**/*.test.js"],
    browser: {
      enabled: true,
      provider: "playwright",
      headless: true,
      screenshotFailures: false,
      instances: [
        {
          browser: "chromium",
          launch: {
            executablePath: chromium,
            args: [
              "--no-sandbox",
              "--disable-gpu",
              "--disable-dev-shm-usage",
              "--disable-background-networking",
              "--disable-component-update",
              "--no-first-run",
            ],
          },
        },
      ],
    },
  },
});
