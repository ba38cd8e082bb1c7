// 中文搜索。
//
// mdBook 自带的搜索按空格和标点切词:一整段中文成了一个「词」,于是搜不到 套接字、广播、超时
// (mdBook 上游的 #1081、#2393)。所以我们关掉它,改用 Pagefind:构建完书以后,
// `pagefind --site book/book/html` 给生成的 HTML 建索引(extended 版用 ICU 给中文分词),
// 这里把它的搜索框放到每一页的正文上方。全部是静态文件,离线可用。
//
// 没有建索引时(比如只运行了 `mdbook serve`),搜索框会说明怎么建,而不是悄悄失效。
// 地址里带 `?q=关键词` 时,打开页面就直接搜索(检查脚本 .ci/book-search 靠它)。
(function () {
  "use strict";

  const root = typeof path_to_root === "string" ? path_to_root : "";
  // 绝对地址:Pagefind 用 import() 加载自己的模块,相对路径会按它自己的位置解析。
  const bundle = new URL(root + "pagefind/", document.baseURI).href;
  const main = document.querySelector("#mdbook-content main");
  if (!main) {
    return;
  }

  const box = document.createElement("div");
  box.id = "course-search";
  box.setAttribute("data-pagefind-ignore", "all");
  box.style.marginBottom = "2em";
  main.prepend(box);

  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = bundle + "pagefind-ui.css";
  document.head.appendChild(css);

  const script = document.createElement("script");
  script.src = bundle + "pagefind-ui.js";
  script.onload = function () {
    const ui = new PagefindUI({
      element: "#course-search",
      bundlePath: bundle,
      showSubResults: true,
      showImages: false,
      resetStyles: false,
    });
    const query = new URLSearchParams(window.location.search).get("q");
    if (query) {
      ui.triggerSearch(query);
    }
  };
  script.onerror = function () {
    box.textContent =
      "搜索索引还没有生成:在仓库根目录运行 `mdbook build book && pagefind --site book/book/html`," +
      "然后用任意静态服务器打开 book/book/html(mdbook serve 会覆盖掉索引)。";
  };
  document.head.appendChild(script);
})();
