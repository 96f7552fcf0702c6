"""The sample services of the lab (customer, employee) and their tools: `build` makes their images (make images),
`release_cli` the next version of one as an archive (make release). Run from the checkout's root as
``python -m examples.<module>``; not part of the collection."""
