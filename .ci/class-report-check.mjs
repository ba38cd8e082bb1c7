// 在无头 Chromium 里打开全班评分报告 report.html:每一课一张柱状图,每一张都要真的画出来
// (截下来的图里有足够多不是白色的像素),页面不能去连任何网站(它必须是自包含的)。
//
//   node .ci/class-report-check.mjs file:///…/report.html 截图目录
import puppeteer from "puppeteer-core";

const [url, shots] = process.argv.slice(2);
const problems = [];
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => problems.push(`页面脚本出错: ${e.message}`));
  page.on("request", (r) => {
    if (!r.url().startsWith("file://") && !r.url().startsWith("data:")) problems.push(`页面去连了 ${r.url()}`);
  });
  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(url, { waitUntil: "load" });
  await page.screenshot({ path: `${shots}/report.png`, fullPage: true });
  const charts = await page.$$("svg.chart");
  if (charts.length === 0) problems.push("页面里没有柱状图");
  for (const [i, chart] of charts.entries()) {
    const png = await chart.screenshot({ path: `${shots}/chart-${i + 1}.png`, encoding: "base64" });
    // 把截图画到画布上数像素:空白的图几乎全是白色。
    const inked = await page.evaluate(async (data) => {
      const img = new Image();
      img.src = `data:image/png;base64,${data}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.width; canvas.height = img.height;
      const ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, img.width, img.height).data;
      let inked = 0;
      for (let p = 0; p < px.length; p += 4) if (px[p] < 235 || px[p + 1] < 235 || px[p + 2] < 235) inked++;
      return inked / (img.width * img.height);
    }, png);
    const bars = await chart.$$eval("rect.bar", (rs) => rs.filter((r) => r.getBBox().height > 0).length);
    console.log(`第 ${i + 1} 张图:${(inked * 100).toFixed(0)}% 的像素有颜色,${bars} 根通过率大于 0 的柱子`);
    if (inked < 0.2) problems.push(`第 ${i + 1} 张图几乎是空白的(${(inked * 100).toFixed(1)}% 的像素有颜色)`);
    if (bars === 0) problems.push(`第 ${i + 1} 张图没有一根柱子(班里有满分的学员,应该有)`);
  }
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.map((p) => `✗ ${p}`).join("\n"));
  process.exit(1);
}
console.log("✓ 每一课的柱状图都画出来了,页面没有连任何网站");
