//! The site's entry point: render the app into the page body.

fn main() {
    yew::Renderer::<daxlab_app::App>::new().render();
}
