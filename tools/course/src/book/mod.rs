//! `course book`:在任何系统上读课本,只要装了 README 里的工具(mdBook、mdbook-mermaid、Pagefind)。
//!
//! ```text
//! cargo run -p course -- book                 构建课本、建中文搜索索引(book/book/html)
//! cargo run -p course -- book --serve         构建好以后在 http://127.0.0.1:3000/ 提供它
//! cargo run -p course -- book --open          同上,再用浏览器打开
//! ```
//!
//! 以前这件事由 `book/build.sh` 做,服务用 `python3 -m http.server`:Windows 的 PowerShell 里
//! 运行不了,也多要一个 Python。现在 build.sh 只是调用这里;服务是一个只用标准库的小静态
//! 文件服务器(serve.rs),只监听 127.0.0.1。

mod build;
mod serve;

use std::process::{Command, ExitCode, Stdio};
use std::thread;

use anyhow::{Result, bail};
use clap::Args;
use clap_zh::say;

use crate::repo::Repo;

/// `course book` 的参数。
#[derive(Args)]
pub struct BookArgs {
    /// 构建好以后在本机提供这本书(只监听 127.0.0.1),按 Ctrl-C 结束
    #[arg(long)]
    serve: bool,
    /// 构建好以后提供这本书,并用浏览器打开它(包含 --serve)
    #[arg(long)]
    open: bool,
    /// 提供这本书用的端口(默认 3000);0 表示让系统挑一个空闲端口,实际的地址会打印出来
    #[arg(short, long, default_value_t = 3000, hide_default_value = true)]
    port: u16,
    /// 不重新构建,直接提供已经构建好的书(book/book/html)
    #[arg(long)]
    no_build: bool,
}

/// `course book --help` 的格式(只有选项)。
pub const HELP: &str = "{about}\n\n用法: cargo run -p course -- book [--serve] [--open] [-p PORT]\n\n\
    选项:\n{options}\n\n\
    需要 mdbook、mdbook-mermaid 和 pagefind,安装方法见 README 的「读课本」。";

pub fn run(repo: &Repo, args: &BookArgs) -> Result<ExitCode> {
    let serve = args.serve || args.open;
    if args.no_build && !serve {
        bail!("--no-build 只和 --serve 或 --open 一起用:不构建也不提供,就什么也没做");
    }
    let book = repo.root.join("book");
    let html = build::output(&book);
    if !args.no_build {
        build::build(&book)?;
        say!("课本已构建好:{}", html.display());
    }
    if !serve {
        say!("在本机打开它:cargo run -p course -- book --serve");
        return Ok(ExitCode::SUCCESS);
    }
    if !html.join("index.html").is_file() {
        bail!(
            "{} 里没有构建好的书:先去掉 --no-build 构建一次",
            html.display()
        );
    }
    let server = serve::Server::bind(args.port, &html)?;
    let url = format!("http://{}/", server.addr());
    say!("在浏览器里打开 {url} (按 Ctrl-C 结束)");
    if args.open {
        open_browser(url);
    }
    server.run()
}

/// 用系统的默认浏览器打开 `url`。在后台等它:有的系统上,打开浏览器的命令要等浏览器关掉才返回。
/// 打不开也不要紧,书照样在提供,地址已经打印出来了。
fn open_browser(url: String) {
    let (program, before): (&str, &[&str]) = if cfg!(windows) {
        // `start` 是 cmd 的内置命令;它的第一个带引号的参数是窗口标题,所以先给一个空的。
        ("cmd", &["/C", "start", ""])
    } else if cfg!(target_os = "macos") {
        ("open", &[])
    } else {
        ("xdg-open", &[])
    };
    let opener = Command::new(program)
        .args(before)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    thread::spawn(move || match opener.and_then(|mut child| child.wait()) {
        Ok(status) if status.success() => say!("已经请浏览器打开 {url}"),
        _ => say!("没能自动打开浏览器({program}):请自己在浏览器里打开 {url}"),
    });
}
